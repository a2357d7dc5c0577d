package scheduler

import (
	"io/fs"
	"syscall"
)

func statUID(fi fs.FileInfo) uint32 {
	if fi == nil {
		return 0
	}
	return fi.Sys().(*syscall.Stat_t).Uid
}
