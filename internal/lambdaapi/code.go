package lambdaapi

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"tarn.dev/tarn/internal/awsapi"
)

const unzipFailed = "Could not unzip uploaded file. Please check your file, then try to upload again."

// codeSha256 is the CodeSha256 of a package: base64 of its SHA-256.
func codeSha256(zipFile []byte) string {
	sum := sha256.Sum256(zipFile)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// codeDir is where a package with the given CodeSha256 is unpacked.
func (a *API) codeDir(name, sha string) string {
	raw, _ := base64.StdEncoding.DecodeString(sha)
	return filepath.Join(a.cfg.CodeRoot, name, hex.EncodeToString(raw))
}

// installCode checks a deployment package and unpacks it (once per
// content) under the code root. It returns the CodeSha256 and the package
// size. op names the operation in the too-large message.
func (a *API) installCode(name string, zipFile []byte, op string) (sha string, size int64, err error) {
	if int64(len(zipFile)) > a.cfg.MaxZipBytes {
		return "", 0, awsapi.Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException",
			"Request must be smaller than %d bytes for the %s operation", a.cfg.MaxZipBytes, op)
	}
	sha = codeSha256(zipFile)
	dir := a.codeDir(name, sha)
	if _, err := os.Stat(dir); err == nil {
		return sha, int64(len(zipFile)), nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", 0, fmt.Errorf("install code of %s: %w", name, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".unpack-")
	if err != nil {
		return "", 0, fmt.Errorf("install code of %s: %w", name, err)
	}
	if err := unpack(zipFile, tmp, a.cfg.MaxUnzippedBytes); err != nil {
		os.RemoveAll(tmp)
		return "", 0, err
	}
	// MkdirTemp makes the directory 0700; the package becomes /var/task,
	// which the function's unprivileged user must be able to read.
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return "", 0, fmt.Errorf("install code of %s: %w", name, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		if _, serr := os.Stat(dir); serr == nil {
			return sha, int64(len(zipFile)), nil // unpacked concurrently
		}
		return "", 0, fmt.Errorf("install code of %s: %w", name, err)
	}
	return sha, int64(len(zipFile)), nil
}

// unpack extracts a zip archive into the empty directory dest. It refuses
// what Lambda refuses and what could write outside dest: corrupt archives,
// entries with absolute or ".." paths, symlinks whose target leaves the
// package, entries beneath a symlink, and more than maxUnzipped bytes in all
// (counted as written, whatever the headers claim). Symlinks are created
// after every file, so no file is ever written through one. The standard
// library's zip reader checks CRCs and sizes; this only adds the policy.
func unpack(data []byte, dest string, maxUnzipped int64) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return invalid("%s", unzipFailed)
	}
	bad := func(format string, args ...any) error {
		return invalid("%s (%s)", unzipFailed, fmt.Sprintf(format, args...))
	}
	var declared uint64
	links := map[string]string{}
	for _, f := range zr.File {
		declared += f.UncompressedSize64
		name := strings.TrimSuffix(f.Name, "/")
		if name == "" || strings.Contains(f.Name, "\\") || strings.HasPrefix(f.Name, "/") || !filepath.IsLocal(filepath.FromSlash(name)) {
			return bad("entry %q is not a relative path inside the package", f.Name)
		}
		if f.Mode()&fs.ModeSymlink != 0 {
			target, err := readSmall(f, 4096)
			if err != nil {
				return bad("entry %q: %v", f.Name, err)
			}
			if path.IsAbs(target) || !filepath.IsLocal(filepath.FromSlash(path.Join(path.Dir(name), target))) {
				return bad("symlink %q points outside the package", f.Name)
			}
			links[name] = target
		}
	}
	if declared > uint64(maxUnzipped) {
		return invalid("Unzipped size must be smaller than %d bytes", maxUnzipped)
	}
	underLink := func(name string) bool {
		for p := path.Dir(name); p != "."; p = path.Dir(p) {
			if _, ok := links[p]; ok {
				return true
			}
		}
		return false
	}
	var written int64
	for _, f := range zr.File {
		name := strings.TrimSuffix(f.Name, "/")
		if underLink(name) {
			return bad("entry %q lies beneath a symlink", f.Name)
		}
		if _, ok := links[name]; ok {
			continue
		}
		target := filepath.Join(dest, filepath.FromSlash(name))
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return fmt.Errorf("unpack %q: %w", f.Name, err)
			}
			continue
		}
		if !f.Mode().IsRegular() {
			return bad("entry %q is not a file, directory or symlink", f.Name)
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return fmt.Errorf("unpack %q: %w", f.Name, err)
		}
		n, err := extract(f, target, maxUnzipped-written)
		written += n
		if errors.Is(err, errTooBig) {
			return invalid("Unzipped size must be smaller than %d bytes", maxUnzipped)
		}
		if errors.Is(err, fs.ErrExist) {
			return bad("entry %q appears twice", f.Name)
		}
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				return fmt.Errorf("unpack %q: %w", f.Name, err)
			}
			return bad("entry %q: %v", f.Name, err)
		}
	}
	for name, t := range links {
		p := filepath.Join(dest, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("unpack %q: %w", name, err)
		}
		if err := os.Symlink(t, p); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return bad("entry %q appears twice", name)
			}
			return fmt.Errorf("unpack %q: %w", name, err)
		}
	}
	return nil
}

var errTooBig = errors.New("unzipped size limit exceeded")

// extract writes one regular file, at most budget bytes, readable by all
// and executable when the archive says so.
func extract(f *zip.File, target string, budget int64) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	mode := os.FileMode(0o644)
	if f.Mode()&0o111 != 0 {
		mode = 0o755
	}
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, mode)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, io.LimitReader(rc, budget+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > budget {
		err = errTooBig
	}
	return n, err
}

func readSmall(f *zip.File, limit int64) (string, error) {
	rc, err := f.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return "", err
	}
	if int64(len(b)) > limit || len(b) == 0 {
		return "", errors.New("bad symlink target")
	}
	return string(b), nil
}
