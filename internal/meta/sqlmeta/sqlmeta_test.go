package sqlmeta_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"tarn.dev/tarn/internal/meta"
	"tarn.dev/tarn/internal/meta/metatest"
	"tarn.dev/tarn/internal/meta/sqlmeta"
)

func openTemp(t *testing.T) *sqlmeta.DB {
	t.Helper()
	db, err := sqlmeta.OpenSQLite(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformanceSQLite(t *testing.T) {
	metatest.Run(t, func(t *testing.T) meta.Store {
		s, err := openTemp(t).Open(context.Background(), "fs-test")
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// Two file systems in one database see only their own records.
func TestFileSystemsAreIsolated(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	a, err := db.Open(ctx, "fs-a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.Open(ctx, "fs-b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Open(ctx, "fs-a"); err != nil {
		t.Fatalf("reopening is not idempotent: %v", err)
	}
	if err := a.Update(ctx, func(tx meta.Tx) error {
		return tx.AddEntry(meta.RootIno, meta.Dirent{Name: "only-in-a", Ino: 2})
	}); err != nil {
		t.Fatal(err)
	}
	err = b.View(ctx, func(tx meta.Tx) error {
		_, err := tx.Lookup(meta.RootIno, "only-in-a")
		return err
	})
	if err == nil {
		t.Errorf("fs-b sees an entry of fs-a")
	}
	if err := a.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestConformancePostgres(t *testing.T) {
	if os.Getenv("TARN_TEST_POSTGRES_DSN") == "" {
		t.Skip("set TARN_TEST_POSTGRES_DSN to run the conformance kit on PostgreSQL (needs a pgx dialect)")
	}
	t.Skip("the PostgreSQL dialect is not built yet")
}
