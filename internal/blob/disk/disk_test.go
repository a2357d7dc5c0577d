package disk_test

import (
	"testing"

	"tarn.dev/tarn/internal/blob"
	"tarn.dev/tarn/internal/blob/blobtest"
	"tarn.dev/tarn/internal/blob/disk"
)

func openTemp(t *testing.T) *disk.Store {
	t.Helper()
	s, err := disk.Open(t.TempDir(), disk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return openTemp(t) })
}
