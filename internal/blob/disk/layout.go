package disk

import (
	"path/filepath"
	"strings"
)

const (
	dirMark   = "+" // suffix of a directory holding the keys below a segment
	contMark  = "%" // suffix of a directory continuing a long segment
	tmpPrefix = "tmp#"
	// maxPiece is the longest part of a segment in one name; with its
	// marker it fits in the 255-byte NAME_MAX of ext4, xfs, btrfs and tmpfs.
	maxPiece = 240
)

// names returns the path components of key below the root: directories for
// all but the last, the object's file name last. key must be valid.
func names(key string) []string {
	segs := strings.Split(key, "/")
	out := make([]string, 0, len(segs))
	for i, seg := range segs {
		for len(seg) > maxPiece {
			cut := maxPiece
			if seg[cut:] == "." {
				cut-- // a file cannot be named "."
			}
			out = append(out, seg[:cut]+contMark)
			seg = seg[cut:]
		}
		if i == len(segs)-1 {
			out = append(out, seg)
		} else {
			out = append(out, seg+dirMark)
		}
	}
	return out
}

// paths returns the directory that holds key's file and the file's path.
func (s *Store) paths(key string) (dir, file string) {
	n := names(key)
	dir = filepath.Join(append([]string{s.root}, n[:len(n)-1]...)...)
	return dir, filepath.Join(dir, n[len(n)-1])
}

// entry kinds a directory can hold.
const (
	kindOther  = iota // not the store's: ignored
	kindObject        // an object file; name is the key's last piece
	kindLevel         // a directory for the keys below a segment
	kindCont          // a directory continuing a long segment
	kindTemp          // a temporary file of a Put
)

// classify tells what a directory entry is from its name and whether it is
// a directory, and returns the key text it stands for.
func classify(name string, isDir, isRegular bool) (kind int, text string) {
	switch {
	case isRegular && strings.HasPrefix(name, tmpPrefix):
		return kindTemp, ""
	case isRegular && len(name) <= maxPiece && validPiece(name):
		return kindObject, name
	case isDir && strings.HasSuffix(name, dirMark) && len(name) > 1 && len(name)-1 <= maxPiece && validPiece(name[:len(name)-1]):
		return kindLevel, name[:len(name)-1] + "/"
	case isDir && strings.HasSuffix(name, contMark) && len(name) > 1 && len(name)-1 <= maxPiece && validPiece(name[:len(name)-1]):
		return kindCont, name[:len(name)-1]
	}
	return kindOther, ""
}

// validPiece reports whether s consists only of bytes allowed in a key
// segment.
func validPiece(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}
