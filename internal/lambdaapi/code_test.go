package lambdaapi

import (
	"archive/zip"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tarn.dev/tarn/internal/awsapi"
)

type entry struct {
	name, content string
	mode          fs.FileMode
}

func buildZip(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		h.SetMode(e.mode | 0o644)
		if e.mode&fs.ModeDir != 0 {
			h.SetMode(e.mode | 0o755)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e.content))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestUnpackRefusesUnsafePackages(t *testing.T) {
	cases := []struct {
		name    string
		zip     []byte
		wantMsg string // "" means it unpacks
	}{
		{"plain", buildZip(t, entry{name: "app.py", content: "x"}, entry{name: "lib/", mode: fs.ModeDir}, entry{name: "lib/m.py", content: "y"}), ""},
		{"executable bootstrap", buildZip(t, entry{name: "bootstrap", content: "#!/bin/sh", mode: 0o755}), ""},
		{"symlink inside", buildZip(t, entry{name: "lib/m.py", content: "y"}, entry{name: "m.py", content: "lib/m.py", mode: fs.ModeSymlink}), ""},
		{"dot-dot", buildZip(t, entry{name: "../evil", content: "x"}), "is not a relative path"},
		{"dot-dot inside", buildZip(t, entry{name: "a/../../evil", content: "x"}), "is not a relative path"},
		{"absolute", buildZip(t, entry{name: "/etc/evil", content: "x"}), "is not a relative path"},
		{"backslash", buildZip(t, entry{name: "..\\evil", content: "x"}), "is not a relative path"},
		{"absolute symlink", buildZip(t, entry{name: "l", content: "/etc/passwd", mode: fs.ModeSymlink}), "points outside the package"},
		{"escaping symlink", buildZip(t, entry{name: "a/l", content: "../../x", mode: fs.ModeSymlink}), "points outside the package"},
		{"file beneath a symlink", buildZip(t, entry{name: "d", content: "sub", mode: fs.ModeSymlink}, entry{name: "d/x", content: "x"}), "beneath a symlink"},
		{"duplicate", buildZip(t, entry{name: "a", content: "1"}, entry{name: "a", content: "2"}), "appears twice"},
		{"bomb", buildZip(t, entry{name: "zeros", content: strings.Repeat("\x00", 2<<20)}), "Unzipped size must be smaller than 1048576 bytes"},
		{"corrupt", []byte("PK\x03\x04garbage"), unzipFailed},
		{"truncated", buildZip(t, entry{name: "a", content: "hello"})[:30], unzipFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dest := filepath.Join(t.TempDir(), "pkg")
			os.Mkdir(dest, 0o755)
			err := unpack(c.zip, dest, 1<<20)
			if c.wantMsg == "" {
				if err != nil {
					t.Fatalf("unpack = %v", err)
				}
				return
			}
			var ae *awsapi.Error
			if !errors.As(err, &ae) || ae.Code != "InvalidParameterValueException" || !strings.Contains(ae.Message, c.wantMsg) {
				t.Fatalf("unpack = %v, want InvalidParameterValueException containing %q", err, c.wantMsg)
			}
			if _, err := os.Lstat(filepath.Join(filepath.Dir(dest), "evil")); err == nil {
				t.Fatal("a file was written outside the package")
			}
		})
	}
}

func TestUnpackKeepsModesAndLinks(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "pkg")
	os.Mkdir(dest, 0o755)
	z := buildZip(t, entry{name: "bootstrap", content: "#!/bin/sh", mode: 0o755}, entry{name: "lib/m.py", content: "y"},
		entry{name: "m.py", content: "lib/m.py", mode: fs.ModeSymlink})
	if err := unpack(z, dest, 1<<20); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(dest, "bootstrap")); err != nil || st.Mode().Perm()&0o111 == 0 {
		t.Errorf("bootstrap mode = %v, %v; want executable", st.Mode(), err)
	}
	if b, err := os.ReadFile(filepath.Join(dest, "m.py")); err != nil || string(b) != "y" {
		t.Errorf("through the symlink: %q, %v", b, err)
	}
}
