package fuse_test

import (
	"os"
	"testing"

	"tarn.dev/tarn/internal/fuse"
	"tarn.dev/tarn/internal/posixtest"
	"tarn.dev/tarn/internal/vfs"
)

// TestPOSIX runs the conformance suite through a Tarn mount, with the
// kernel checking permissions on cached attributes and with every check
// left to the file system.
func TestPOSIX(t *testing.T) {
	for _, c := range []struct {
		name string
		opts fuse.Options
	}{
		{"KernelPermissions", fuse.Options{}},
		{"ServerPermissions", fuse.Options{ServerPermissions: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			m := w.mount(c.opts)
			posixtest.Run(t, m.Dir(), posixtest.Options{
				NameMax:  vfs.MaxNameLen,
				MaxLinks: vfs.MaxLinks,
				OtherFS:  os.TempDir(),
			})
		})
	}
}
