// Package datadir lays out Tarn's data directory, the one place where a
// single-machine Tarn keeps all of its state:
//
//	tarn.db        SQLite database: control-plane records and file-system metadata
//	blocks/        the block store of the file systems' data
//	code/          function code packages
//	keys/          root.json: the root access key pair (mode 0600)
//	logs/          server and function logs
//	tls/           the private CA and server certificates
//	server.json    where the running server listens (removed on clean shutdown)
//
// Clients on the same machine (the tarn CLI, `tarn env`) read keys/root.json
// and server.json to find the local server without any configuration.
package datadir

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// Dir is a data directory.
type Dir struct{ Path string }

// Default returns the data directory to use when none is given: $TARN_DATA,
// else ./.tarn.
func Default() string {
	if d := os.Getenv("TARN_DATA"); d != "" {
		return d
	}
	return ".tarn"
}

// Paths of the parts of the directory.
func (d Dir) Database() string    { return filepath.Join(d.Path, "tarn.db") }
func (d Dir) Blocks() string      { return filepath.Join(d.Path, "blocks") }
func (d Dir) Code() string        { return filepath.Join(d.Path, "code") }
func (d Dir) Keys() string        { return filepath.Join(d.Path, "keys") }
func (d Dir) Logs() string        { return filepath.Join(d.Path, "logs") }
func (d Dir) TLS() string         { return filepath.Join(d.Path, "tls") }
func (d Dir) RootKeyFile() string { return filepath.Join(d.Keys(), "root.json") }
func (d Dir) ServerFile() string  { return filepath.Join(d.Path, "server.json") }

// Create makes the directory and its parts if they are missing and reports
// whether the directory was new.
func (d Dir) Create() (created bool, err error) {
	if _, err := os.Stat(d.Path); errors.Is(err, fs.ErrNotExist) {
		created = true
	}
	for _, p := range []string{d.Path, d.Blocks(), d.Code(), d.Keys(), d.Logs(), d.TLS()} {
		if err := os.MkdirAll(p, 0o700); err != nil {
			return false, fmt.Errorf("create data directory: %w", err)
		}
	}
	return created, nil
}

// Sync makes everything written under the directory durable, with one
// syncfs(2) of the file system that holds it.
func (d Dir) Sync() error {
	f, err := os.Open(d.Path)
	if err != nil {
		return fmt.Errorf("sync data directory: %w", err)
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("sync data directory: %w", err)
	}
	return nil
}

// Credentials is an access key pair.
type Credentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
}

// NewCredentials returns a fresh random key pair in the AWS format: a
// 20-character id starting with "AKIA" and a 40-character secret.
func NewCredentials() Credentials {
	const upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	const secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	return Credentials{AccessKeyID: "AKIA" + randomString(16, upper), SecretAccessKey: randomString(40, secretChars)}
}

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// ReadRootCredentials reads keys/root.json.
func (d Dir) ReadRootCredentials() (Credentials, error) {
	var c Credentials
	if err := readJSON(d.RootKeyFile(), &c); err != nil {
		return c, fmt.Errorf("root credentials: %w", err)
	}
	return c, nil
}

// WriteRootCredentials writes keys/root.json with mode 0600.
func (d Dir) WriteRootCredentials(c Credentials) error {
	return writeJSON(d.RootKeyFile(), c, 0o600)
}

// ServerInfo says where a running server listens.
type ServerInfo struct {
	Endpoint string `json:"Endpoint"` // control API base URL, e.g. http://127.0.0.1:7750
	Region   string `json:"Region"`
	PID      int    `json:"Pid"`
}

// ErrServerGone reports a server.json left behind by a server that is no
// longer running (it was killed).
var ErrServerGone = errors.New("the tarn server recorded in this data directory is not running")

// ReadServerInfo reads server.json. It fails with ErrServerGone when the
// process it names no longer exists.
func (d Dir) ReadServerInfo() (ServerInfo, error) {
	var s ServerInfo
	if err := readJSON(d.ServerFile(), &s); err != nil {
		return s, fmt.Errorf("server info: %w", err)
	}
	if s.PID > 0 && syscall.Kill(s.PID, 0) == syscall.ESRCH {
		return s, fmt.Errorf("%s (pid %d): %w", d.Path, s.PID, ErrServerGone)
	}
	return s, nil
}

// WriteServerInfo writes server.json.
func (d Dir) WriteServerInfo(s ServerInfo) error { return writeJSON(d.ServerFile(), s, 0o644) }

// RemoveServerInfo removes server.json.
func (d Dir) RemoveServerInfo() error {
	if err := os.Remove(d.ServerFile()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// writeJSON replaces path atomically (temp file, fsync, rename).
func writeJSON(path string, v any, mode os.FileMode) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
