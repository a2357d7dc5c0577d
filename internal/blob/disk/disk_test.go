package disk_test

import (
	"testing"

	"tarn.dev/tarn/internal/blob"
	"tarn.dev/tarn/internal/blob/blobtest"
	"tarn.dev/tarn/internal/blob/disk"
)

func openTemp(t *testing.T, opts disk.Options) *disk.Store {
	t.Helper()
	s, err := disk.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return openTemp(t, disk.Options{}) })
}

func TestConformanceOneOpenFile(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return openTemp(t, disk.Options{OpenFiles: 1}) })
}

func TestConformanceNoOpenFiles(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return openTemp(t, disk.Options{OpenFiles: -1}) })
}
