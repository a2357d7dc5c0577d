package posixtest_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"tarn.dev/tarn/internal/posixtest"
)

// TestLocalDirectory validates the suite against the local file system:
// every case must pass there.
func TestLocalDirectory(t *testing.T) {
	dir := t.TempDir()
	// t.TempDir's parents are 0700; the permission cases run as other users.
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	opts := posixtest.Options{}
	if other := "/dev/shm"; device(other) != device(dir) {
		opts.OtherFS = other
	}
	posixtest.Run(t, dir, opts)
}

func device(p string) uint64 {
	var st syscall.Stat_t
	if syscall.Stat(p, &st) != nil {
		return 0
	}
	return st.Dev
}
