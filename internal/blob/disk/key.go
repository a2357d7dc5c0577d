package disk

import (
	"fmt"
	"io/fs"
	"strings"
)

// checkKey reports whether key is a valid blob key: 1 to 512 bytes of
// [A-Za-z0-9/_.-], no "..", not absolute, and no empty or "." segment. The
// mem backend applies the same rules; blobtest pins them for every backend.
func checkKey(op, key string) error {
	if key == "" {
		return fmt.Errorf("%s: invalid key: empty: %w", op, fs.ErrInvalid)
	}
	if err := checkPrefix(op, key); err != nil {
		return err
	}
	if strings.HasSuffix(key, "/") || strings.Contains(key, "//") || key == "." ||
		strings.HasPrefix(key, "./") || strings.HasSuffix(key, "/.") || strings.Contains(key, "/./") {
		return fmt.Errorf("%s %q: invalid key: empty or \".\" segment: %w", op, key, fs.ErrInvalid)
	}
	return nil
}

// checkPrefix checks a List prefix, which may end in the middle of a segment:
// at most 512 bytes of [A-Za-z0-9/_.-], no "..", not absolute.
func checkPrefix(op, s string) error {
	if len(s) > 512 {
		return fmt.Errorf("%s: invalid key: %d bytes, longer than 512: %w", op, len(s), fs.ErrInvalid)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '/' || c == '_' || c == '.' || c == '-') {
			return fmt.Errorf("%s %q: invalid key: byte %q at %d is not in [A-Za-z0-9/_.-]: %w", op, s, c, i, fs.ErrInvalid)
		}
	}
	if strings.HasPrefix(s, "/") {
		return fmt.Errorf("%s %q: invalid key: absolute: %w", op, s, fs.ErrInvalid)
	}
	if strings.Contains(s, "..") {
		return fmt.Errorf("%s %q: invalid key: contains \"..\": %w", op, s, fs.ErrInvalid)
	}
	return nil
}
