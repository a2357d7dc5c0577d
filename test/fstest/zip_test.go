package fsrobust

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const unzipPath = "/usr/bin/unzip"

// zipEntry is what a file of the archive must look like once extracted.
type zipEntry struct {
	mode fs.FileMode
	size int64
	sum  [32]byte
}

// buildZip writes a zip of n files in nested directories to w: random sizes
// up to 64 KiB (a few of several MiB), random permission bits, some
// compressible and deflated, the rest stored. It returns the expected files
// by slash path and the directories.
func buildZip(w io.Writer, rng *rand.Rand, n int) (map[string]zipEntry, map[string]fs.FileMode, error) {
	pool := make([]byte, 9<<20)
	rng.Read(pool)
	modes := []fs.FileMode{0o644, 0o600, 0o755, 0o640, 0o444, 0o700, 0o664}
	files, dirs := map[string]zipEntry{}, map[string]fs.FileMode{}
	zw := zip.NewWriter(w)
	for i := range n {
		var parts []string
		for range 1 + rng.Intn(3) {
			parts = append(parts, fmt.Sprintf("dir%02d", rng.Intn(12)))
		}
		dir := strings.Join(parts, "/")
		for j := range parts {
			d := strings.Join(parts[:j+1], "/")
			if _, ok := dirs[d]; !ok {
				mode := []fs.FileMode{0o755, 0o750, 0o775}[rng.Intn(3)]
				dirs[d] = mode
				h := &zip.FileHeader{Name: d + "/", Modified: time.Now()}
				h.SetMode(fs.ModeDir | mode)
				if _, err := zw.CreateHeader(h); err != nil {
					return nil, nil, err
				}
			}
		}
		size := rng.Intn(64<<10 + 1)
		if i%400 == 7 {
			size = 1<<20 + rng.Intn(8<<20)
		}
		var data []byte
		method := zip.Store
		if rng.Intn(4) == 0 {
			line := []byte(fmt.Sprintf("line %d of a compressible file\n", i))
			data = bytes.Repeat(line, size/len(line)+1)[:size]
			method = zip.Deflate
		} else {
			off := rng.Intn(len(pool) - size + 1)
			data = pool[off : off+size]
		}
		name := fmt.Sprintf("%s/file%04d.bin", dir, i)
		mode := modes[rng.Intn(len(modes))]
		h := &zip.FileHeader{Name: name, Method: method, Modified: time.Now()}
		h.SetMode(mode)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return nil, nil, err
		}
		if _, err := fw.Write(data); err != nil {
			return nil, nil, err
		}
		files[name] = zipEntry{mode: mode, size: int64(size), sum: sha256.Sum256(data)}
	}
	return files, dirs, zw.Close()
}

// extractZipInGo extracts archive into dest the way unzip does, for
// machines without unzip.
func extractZipInGo(archive, dest string) error {
	zr, err := zip.OpenReader(archive)
	if err != nil {
		return err
	}
	defer zr.Close()
	var dirModes []*zip.File
	for _, zf := range zr.File {
		p := filepath.Join(dest, filepath.FromSlash(zf.Name))
		if zf.FileInfo().IsDir() {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			dirModes = append(dirModes, zf)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		r, err := zf.Open()
		if err != nil {
			return err
		}
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, zf.Mode().Perm())
		if err == nil {
			_, err = io.Copy(f, r)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		r.Close()
		if err == nil {
			err = os.Chmod(p, zf.Mode().Perm())
		}
		if err != nil {
			return fmt.Errorf("extract %s: %w", zf.Name, err)
		}
	}
	for _, zf := range dirModes {
		if err := os.Chmod(filepath.Join(dest, filepath.FromSlash(zf.Name)), zf.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

// verifyTree checks that root holds exactly the files and directories
// expected, with their modes and contents.
func verifyTree(t *testing.T, root string, files map[string]zipEntry, dirs map[string]fs.FileMode) {
	t.Helper()
	seenFiles, seenDirs := 0, 0
	buf := make([]byte, 1<<20)
	err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(p, root+"/"))
		info, err := de.Info()
		if err != nil {
			return err
		}
		if de.IsDir() {
			want, ok := dirs[rel]
			switch {
			case !ok:
				t.Errorf("unexpected directory %s", rel)
			case info.Mode().Perm() != want:
				t.Errorf("directory %s has mode %v, want %v", rel, info.Mode().Perm(), want)
			}
			seenDirs++
			return nil
		}
		want, ok := files[rel]
		if !ok {
			t.Errorf("unexpected entry %s (%v)", rel, info.Mode())
			return nil
		}
		seenFiles++
		if !info.Mode().IsRegular() || info.Mode().Perm() != want.mode || info.Size() != want.size {
			t.Errorf("%s: mode %v size %d, want regular %v size %d", rel, info.Mode(), info.Size(), want.mode, want.size)
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		h := sha256.New()
		_, err = io.CopyBuffer(h, f, buf)
		f.Close()
		if err != nil {
			return fmt.Errorf("read %s: %w", rel, err)
		}
		if got := h.Sum(nil); !bytes.Equal(got, want.sum[:]) {
			t.Errorf("%s: content differs from the archive's", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seenFiles != len(files) || seenDirs != len(dirs) {
		t.Errorf("found %d files and %d directories, want %d and %d", seenFiles, seenDirs, len(files), len(dirs))
	}
}

// TestZipExtractsOnMount builds a zip of about 2,000 files in nested
// directories, extracts it on a mount of a tarn server with Debian's unzip
// (or archive/zip when unzip is not installed), and checks every file's
// content and mode and every directory's mode, then again through a new
// mount; fsck must be clean.
func TestZipExtractsOnMount(t *testing.T) {
	needFUSE(t)
	n := 2000
	if testing.Short() {
		n = 300
	}
	rng := rand.New(rand.NewSource(testSeed(t)))
	srv := startServer(t, filepath.Join(t.TempDir(), "data"))
	id := srv.createFS("zip")
	mp := srv.mount(id, false)

	archive := filepath.Join(mp, "archive.zip")
	f, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	files, dirs, err := buildZip(f, rng, n)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("write the zip on the mount: %v", err)
	}
	st, _ := os.Stat(archive)
	dest := filepath.Join(mp, "out")
	start := time.Now()
	if _, err := os.Stat(unzipPath); err == nil {
		// umask 0: unzip applies the umask to the archive's modes.
		out, err := exec.Command("/bin/sh", "-c", `umask 0 && exec "$0" -q "$1" -d "$2"`, unzipPath, archive, dest).CombinedOutput()
		if err != nil {
			t.Fatalf("unzip: %v\n%s", err, out)
		}
		t.Logf("extracted %d files (%d directories, %d MiB archive) with %s in %v",
			len(files), len(dirs), st.Size()>>20, unzipPath, time.Since(start).Round(time.Millisecond))
	} else {
		if err := extractZipInGo(archive, dest); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s is not installed (apt-get install unzip): extracted %d files with archive/zip instead, in %v",
			unzipPath, len(files), time.Since(start).Round(time.Millisecond))
	}
	verifyTree(t, dest, files, dirs)
	srv.umount(mp)
	dropCaches(t)
	verifyTree(t, filepath.Join(srv.mount(id, true), "out"), files, dirs)
	if out, ok := srv.fsck(id, false); !ok || !strings.Contains(out, "clean") {
		t.Errorf("tarn fsck after extracting: %s", out)
	}
}
