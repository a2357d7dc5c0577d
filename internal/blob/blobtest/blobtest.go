// Package blobtest is the conformance kit for blob.Store backends. A backend
// is done when its test is
//
//	func TestConformance(t *testing.T) {
//		blobtest.Run(t, func(t *testing.T) blob.Store { return openTemp(t) })
//	}
//
// and passes under -race. Every case is a named subtest, so
// `-run Conformance/ReadAt` selects one. The factory is called once per
// subtest and must return an empty store; it releases the store with
// t.Cleanup.
//
// Beyond the comments in package blob, the kit pins down behaviour that every
// backend must share:
//   - invalid keys and list prefixes are rejected with an error wrapping
//     fs.ErrInvalid, and nothing is stored; besides the rules in package blob,
//     a key has no empty segment and no "." segment ("a//b", "a/", "./a");
//   - a negative ReadAt offset is an error wrapping fs.ErrInvalid;
//   - a key may be both an object and a prefix of other keys ("a" and "a/b");
//   - fn passed to List may call Put and Delete on the same store;
//   - a cancelled context makes every operation fail with an error wrapping
//     ctx.Err(), and a cancelled Put stores nothing.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"tarn.dev/tarn/internal/blob"
)

// Run runs the conformance suite against the stores newStore returns.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, newStore) })
	t.Run("PutCopiesData", func(t *testing.T) { testPutCopiesData(t, newStore) })
	t.Run("ReadAt", func(t *testing.T) { testReadAt(t, newStore) })
	t.Run("ReadAtMissingKey", func(t *testing.T) { testReadAtMissing(t, newStore) })
	t.Run("DeleteIsIdempotent", func(t *testing.T) { testDelete(t, newStore) })
	t.Run("ListOrder", func(t *testing.T) { testListOrder(t, newStore) })
	t.Run("ListPrefix", func(t *testing.T) { testListPrefix(t, newStore) })
	t.Run("ListSizes", func(t *testing.T) { testListSizes(t, newStore) })
	t.Run("ListStopsAtFirstError", func(t *testing.T) { testListStop(t, newStore) })
	t.Run("DeleteDuringList", func(t *testing.T) { testDeleteDuringList(t, newStore) })
	t.Run("ObjectAndPrefixCoexist", func(t *testing.T) { testObjectAndPrefix(t, newStore) })
	t.Run("LongKeys", func(t *testing.T) { testLongKeys(t, newStore) })
	t.Run("InvalidKeys", func(t *testing.T) { testInvalidKeys(t, newStore) })
	t.Run("InvalidListPrefix", func(t *testing.T) { testInvalidPrefix(t, newStore) })
	t.Run("ReadAfterOverwrite", func(t *testing.T) { testReadAfterOverwrite(t, newStore) })
	t.Run("OverwriteIsAtomic", func(t *testing.T) { testOverwriteAtomic(t, newStore) })
	t.Run("ConcurrentDistinctKeys", func(t *testing.T) { testConcurrent(t, newStore) })
	t.Run("CancelledContext", func(t *testing.T) { testCancelled(t, newStore) })
}

// pattern returns n deterministic pseudo-random bytes, different per seed.
func pattern(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	p := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			p[i+j] = byte(v >> (8 * j))
		}
	}
	return p
}

func put(t *testing.T, s blob.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(context.Background(), key, data); err != nil {
		t.Fatalf("Put(%q, %d bytes) = %v", key, len(data), err)
	}
}

// readAll reads the whole object through ReadAt with a buffer one byte
// larger than want, so that it also checks the io.EOF at the end.
func readAll(t *testing.T, s blob.Store, key string, size int) []byte {
	t.Helper()
	p := make([]byte, size+1)
	n, err := s.ReadAt(context.Background(), key, p, 0)
	if n != size || err != io.EOF {
		t.Fatalf("ReadAt(%q, %d bytes, 0) = %d, %v; want %d, io.EOF", key, len(p), n, err, size)
	}
	return p[:n]
}

type listed struct {
	key  string
	size int64
}

func list(t *testing.T, s blob.Store, prefix string) []listed {
	t.Helper()
	var got []listed
	err := s.List(context.Background(), prefix, func(key string, size int64) error {
		got = append(got, listed{key, size})
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q) = %v", prefix, err)
	}
	return got
}

func listKeys(t *testing.T, s blob.Store, prefix string) []string {
	t.Helper()
	var keys []string
	for _, l := range list(t, s, prefix) {
		keys = append(keys, l.key)
	}
	return keys
}

func testRoundTrip(t *testing.T, newStore func(*testing.T) blob.Store) {
	for _, tc := range []struct {
		name string
		size int
	}{
		{"Empty", 0},
		{"OneByte", 1},
		{"4KiB", 4 << 10},
		{"4KiBPlus1", 4<<10 + 1},
		{"4MiB", 4 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			want := pattern(uint64(tc.size), tc.size)
			key := "round/trip/" + tc.name
			put(t, s, key, want)
			if got := readAll(t, s, key, tc.size); !bytes.Equal(got, want) {
				t.Fatalf("ReadAt(%q) returned different bytes than were put (%d bytes)", key, tc.size)
			}
			if got := list(t, s, ""); !slices.Equal(got, []listed{{key, int64(tc.size)}}) {
				t.Fatalf("List(\"\") = %v, want [{%s %d}]", got, key, tc.size)
			}
		})
	}
}

func testPutCopiesData(t *testing.T, newStore func(*testing.T) blob.Store) {
	s := newStore(t)
	data := []byte("original")
	put(t, s, "k", data)
	copy(data, "CHANGED!")
	if got := readAll(t, s, "k", len(data)); string(got) != "original" {
		t.Fatalf("after the caller reused its buffer, ReadAt = %q, want %q", got, "original")
	}
	p := make([]byte, 8)
	if _, err := s.ReadAt(context.Background(), "k", p, 0); err != nil {
		t.Fatal(err)
	}
	copy(p, "CHANGED!")
	if got := readAll(t, s, "k", 8); string(got) != "original" {
		t.Fatalf("after the caller wrote into a read buffer, ReadAt = %q, want %q", got, "original")
	}
}

func testReadAt(t *testing.T, newStore func(*testing.T) blob.Store) {
	s := newStore(t)
	const size = 10000
	data := pattern(7, size)
	put(t, s, "obj", data)
	put(t, s, "empty", nil)
	for _, tc := range []struct {
		name    string
		key     string
		off     int64
		len     int
		wantN   int
		wantEOF bool
	}{
		{"Start", "obj", 0, 100, 100, false},
		{"Middle", "obj", 4097, 1000, 1000, false},
		{"ExactlyToEnd", "obj", size - 100, 100, 100, false},
		{"Whole", "obj", 0, size, size, false},
		{"PartialPastEnd", "obj", size - 10, 100, 10, true},
		{"AtEnd", "obj", size, 10, 0, true},
		{"BeyondEnd", "obj", size + 4096, 10, 0, true},
		{"FarBeyondEnd", "obj", 1 << 40, 10, 0, true},
		{"EmptyObject", "empty", 0, 10, 0, true},
		{"EmptyBuffer", "obj", 5, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := make([]byte, tc.len)
			n, err := s.ReadAt(context.Background(), tc.key, p, tc.off)
			if n != tc.wantN {
				t.Fatalf("ReadAt(%q, %d bytes, %d) n = %d, want %d", tc.key, tc.len, tc.off, n, tc.wantN)
			}
			if tc.wantEOF && err != io.EOF {
				t.Fatalf("ReadAt(%q, %d bytes, %d) err = %v, want io.EOF", tc.key, tc.len, tc.off, err)
			}
			if !tc.wantEOF && err != nil {
				t.Fatalf("ReadAt(%q, %d bytes, %d) err = %v, want nil", tc.key, tc.len, tc.off, err)
			}
			if tc.key == "obj" && n > 0 && !bytes.Equal(p[:n], data[tc.off:tc.off+int64(n)]) {
				t.Fatalf("ReadAt(%q, %d bytes, %d) returned the wrong bytes", tc.key, tc.len, tc.off)
			}
		})
	}
	t.Run("NegativeOffset", func(t *testing.T) {
		n, err := s.ReadAt(context.Background(), "obj", make([]byte, 10), -1)
		if n != 0 || !errors.Is(err, fs.ErrInvalid) {
			t.Fatalf("ReadAt(obj, 10 bytes, -1) = %d, %v; want 0 and an error wrapping fs.ErrInvalid", n, err)
		}
	})
}

func testReadAtMissing(t *testing.T, newStore func(*testing.T) blob.Store) {
	s := newStore(t)
	put(t, s, "dir/present", []byte("x"))
	for _, key := range []string{"missing", "dir/missing", "dir", "dir/present/below", "other/dir/missing"} {
		_, err := s.ReadAt(context.Background(), key, make([]byte, 1), 0)
		if !errors.Is(err, blob.ErrNotExist) {
			t.Errorf("ReadAt(%q) on a missing key = %v, want an error wrapping blob.ErrNotExist", key, err)
		}
	}
	put(t, s, "gone", []byte("x"))
	readAll(t, s, "gone", 1) // a backend that caches open objects must forget it
	if err := s.Delete(context.Background(), "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadAt(context.Background(), "gone", make([]byte, 1), 0); !errors.Is(err, blob.ErrNotExist) {
		t.Errorf("ReadAt(gone) after Delete = %v, want an error wrapping blob.ErrNotExist", err)
	}
}

func testDelete(t *testing.T, newStore func(*testing.T) blob.Store) {
	s := newStore(t)
	ctx := context.Background()
	put(t, s, "a/b/c", []byte("abc"))
	put(t, s, "a/d", []byte("ad"))
	for i := range 2 {
		if err := s.Delete(ctx, "a/b/c"); err != nil {
			t.Fatalf("Delete(a/b/c) #%d = %v", i+1, err)
		}
	}
	for _, key := range []string{"never", "a/b", "a/b/c/d", "x/y/z"} {
		if err := s.Delete(ctx, key); err != nil {
			t.Errorf("Delete(%q) of a key that was never stored = %v, want nil", key, err)
		}
	}
	if got, want := listKeys(t, s, ""), []string{"a/d"}; !slices.Equal(got, want) {
		t.Fatalf("List after Delete = %q, want %q", got, want)
	}
	// The key can be stored again after Delete.
	put(t, s, "a/b/c", []byte("again"))
	if got := readAll(t, s, "a/b/c", 5); string(got) != "again" {
		t.Fatalf("ReadAt(a/b/c) after re-Put = %q, want %q", got, "again")
	}
}

// listKeySet contains keys whose byte order differs from a per-level walk in
// naive directory order: '-' and '.' sort before '/', digits after it.
var listKeySet = []string{
	"a", "a-b", "a.b", "a/b", "a/c/d", "a/c-d", "a0", "ab/c", "b", "B", "_", "a/c/d/e", "z/z/z", "a/b0", "a/b/c",
}

func testListOrder(t *testing.T, newStore func(*testing.T) blob.Store) {
	s := newStore(t)
	// Put in a shuffled order so that insertion order cannot pass for sorting.
	keys := slices.Clone(listKeySet)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	for _, k := range keys {
		put(t, s, k, []byte(k))
	}
	want := slices.Sorted(slices.Values(listKeySet))
	if got := listKeys(t, s, ""); !slices.Equal(got, want) {
		t.Fatalf("List(\"\") = %q\nwant %q", got, want)
	}
	if got := list(t, s, "")[0]; got.key != "B" {
		t.Fatalf("first listed key = %q, want %q (byte order, upper case first)", got.key, "B")
	}
	if got := listKeys(t, s, "nothing"); len(got) != 0 {
		t.Fatalf("List(nothing) = %q, want none", got)
	}
	empty := newStore(t)
	if got := listKeys(t, empty, ""); len(got) != 0 {
		t.Fatalf("List on an empty store = %q, want none", got)
	}
}

func testListPrefix(t *testing.T, newStore func(*testing.T) blob.Store) {
	s := newStore(t)
	for _, k := range listKeySet {
		put(t, s, k, []byte(k))
	}
	for _, prefix := range []string{"", "a", "a/", "a/b", "a/c", "a/c/", "a/c/d", "a/c/d/", "a-", "ab", "ab/", "b", "z/z", "z/z/z", "z/z/z/", "q", "a/q/"} {
		var want []string
		for _, k := range slices.Sorted(slices.Values(listKeySet)) {
			if strings.HasPrefix(k, prefix) {
				want = append(want, k)
			}
		}
		if got := listKeys(t, s, prefix); !slices.Equal(got, want) {
			t.Errorf("List(%q) = %q, want %q", prefix, got, want)
		}
	}
}

func testListSizes(t *testing.T, newStore func(*testing.T) blob.Store) {
	s := newStore(t)
	want := []listed{{"s/0", 0}, {"s/1", 1}, {"s/4k", 4096}, {"s/big", 1<<20 + 3}}
	for i, l := range want {
		put(t, s, l.key, pattern(uint64(i), int(l.size)))
	}
	if got := list(t, s, "s/"); !slices.Equal(got, want) {
		t.Fatalf("List(s/) = %v, want %v", got, want)
	}
	// Overwriting changes the listed size.
	put(t, s, "s/1", []byte("three"))
	if got := list(t, s, "s/1"); !slices.Equal(got, []listed{{"s/1", 5}}) {
		t.Fatalf("List(s/1) after overwrite = %v, want [{s/1 5}]", got)
	}
}

func testListStop(t *testing.T, newStore func(*testing.T) blob.Store) {
	s := newStore(t)
	for _, k := range []string{"k/1", "k/2", "k/3", "k/4"} {
		put(t, s, k, []byte(k))
	}
	stop := errors.New("stop here")
	var seen []string
	err := s.List(context.Background(), "", func(key string, size int64) error {
		seen = append(seen, key)
		if len(seen) == 2 {
			return fmt.Errorf("wrapped: %w", stop)
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("List = %v, want the error fn returned", err)
	}
	if want := []string{"k/1", "k/2"}; !slices.Equal(seen, want) {
		t.Fatalf("List called fn for %q, want %q and then stop", seen, want)
	}
}

func testDeleteDuringList(t *testing.T, newStore func(*testing.T) blob.Store) {
	s := newStore(t)
	ctx := context.Background()
	var keys []string
	for i := range 3 {
		for j := range 3 {
			k := fmt.Sprintf("gc/%d/%d", i, j)
			keys = append(keys, k)
			put(t, s, k, []byte(k))
		}
	}
	var seen []string
	err := s.List(ctx, "gc/", func(key string, size int64) error {
		seen = append(seen, key)
		return s.Delete(ctx, key)
	})
	if err != nil {
		t.Fatalf("List deleting each key it visits = %v", err)
	}
	if !slices.Equal(seen, keys) {
		t.Fatalf("List deleting each key visited %q, want %q", seen, keys)
	}
	if got := listKeys(t, s, ""); len(got) != 0 {
		t.Fatalf("List after deleting everything = %q, want none", got)
	}
	// Put from inside fn works too.
	put(t, s, "p/1", nil)
	err = s.List(ctx, "p/", func(key string, size int64) error {
		return s.Put(ctx, "q/"+key, []byte(key))
	})
	if err != nil {
		t.Fatalf("List putting from fn = %v", err)
	}
	if got := readAll(t, s, "q/p/1", 3); string(got) != "p/1" {
		t.Fatalf("ReadAt(q/p/1) = %q, want %q", got, "p/1")
	}
}

func testObjectAndPrefix(t *testing.T, newStore func(*testing.T) blob.Store) {
	s := newStore(t)
	ctx := context.Background()
	put(t, s, "a", []byte("1"))
	put(t, s, "a/b", []byte("22"))
	put(t, s, "a/b/c", []byte("333"))
	want := []listed{{"a", 1}, {"a/b", 2}, {"a/b/c", 3}}
	if got := list(t, s, ""); !slices.Equal(got, want) {
		t.Fatalf("List = %v, want %v", got, want)
	}
	for _, l := range want {
		if got := readAll(t, s, l.key, int(l.size)); len(got) != int(l.size) || got[0] != byte('0'+l.size) {
			t.Fatalf("ReadAt(%q) = %q", l.key, got)
		}
	}
	if err := s.Delete(ctx, "a/b"); err != nil {
		t.Fatal(err)
	}
	if got, want := listKeys(t, s, ""), []string{"a", "a/b/c"}; !slices.Equal(got, want) {
		t.Fatalf("List after Delete(a/b) = %q, want %q", got, want)
	}
	if err := s.Delete(ctx, "a/b/c"); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s, "a", 1); string(got) != "1" {
		t.Fatalf("ReadAt(a) = %q, want %q", got, "1")
	}
}

func testLongKeys(t *testing.T, newStore func(*testing.T) blob.Store) {
	s := newStore(t)
	// Segment lengths around the limits file systems put on names (255
	// bytes) and multiples of them, with neighbours that sort just before
	// and after the "/" that follows.
	var keys []string
	for _, n := range []int{100, 200, 239, 240, 241, 254, 255, 256, 300, 479, 480, 481, 509, 512} {
		base := strings.Repeat("k", n)
		for _, suffix := range []string{"", "-", ".", ".x", "/x", "/x/y", "0", "k"} {
			if k := base + suffix; len(k) <= 512 && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	keys = append(keys, strings.Repeat("ab/", 170)+"ab")                       // 512 bytes, many levels
	keys = append(keys, strings.Repeat("k", 300)+"/"+strings.Repeat("m", 211)) // 512 bytes, two long levels
	for i, k := range keys {
		put(t, s, k, pattern(uint64(i), i))
	}
	want := slices.Sorted(slices.Values(keys))
	if got := listKeys(t, s, ""); !slices.Equal(got, want) {
		t.Fatalf("List(\"\") of long keys: %s", diffKeys(got, want))
	}
	for _, prefix := range []string{strings.Repeat("k", 255), strings.Repeat("k", 256), strings.Repeat("k", 300) + "/", strings.Repeat("k", 480) + "/x"} {
		var wantP []string
		for _, k := range want {
			if strings.HasPrefix(k, prefix) {
				wantP = append(wantP, k)
			}
		}
		if got := listKeys(t, s, prefix); !slices.Equal(got, wantP) {
			t.Errorf("List(%d-byte prefix): %s", len(prefix), diffKeys(got, wantP))
		}
	}
	for i, k := range keys {
		if got := readAll(t, s, k, i); !bytes.Equal(got, pattern(uint64(i), i)) {
			t.Fatalf("ReadAt(%d-byte key) returned the wrong bytes", len(k))
		}
	}
	for _, k := range keys {
		if err := s.Delete(context.Background(), k); err != nil {
			t.Fatalf("Delete(%d-byte key) = %v", len(k), err)
		}
	}
	if got := listKeys(t, s, ""); len(got) != 0 {
		t.Fatalf("List after deleting all long keys = %d keys, want none", len(got))
	}
}

// diffKeys describes the first difference between two key lists, with long
// keys shortened to their length and last bytes.
func diffKeys(got, want []string) string {
	short := func(k string) string {
		if len(k) <= 40 {
			return fmt.Sprintf("%q", k)
		}
		return fmt.Sprintf("%d bytes ending %q", len(k), k[len(k)-12:])
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("key %d is %s, want %s", i, short(got[i]), short(want[i]))
		}
	}
	return fmt.Sprintf("got %d keys, want %d", len(got), len(want))
}

// InvalidKeys lists keys every backend must reject.
var InvalidKeys = []string{
	"",
	"..",
	"../a",
	"a/..",
	"a/../b",
	"a..b",
	".",
	"./a",
	"a/.",
	"a/./b",
	"/abs",
	"/",
	"a/",
	"a//b",
	"a b",
	"a\x00b",
	"a\nb",
	"a\\b",
	"a:b",
	"a*",
	"a~",
	"a#b",
	"a+",
	"a%b",
	"ü",
	strings.Repeat("k", 513),
	strings.Repeat("ab/", 171),
}

func testInvalidKeys(t *testing.T, newStore func(*testing.T) blob.Store) {
	s := newStore(t)
	ctx := context.Background()
	for _, key := range InvalidKeys {
		name := key
		if len(name) > 20 {
			name = fmt.Sprintf("%d bytes", len(key))
		}
		t.Run(fmt.Sprintf("%q", name), func(t *testing.T) {
			if err := s.Put(ctx, key, []byte("x")); !errors.Is(err, fs.ErrInvalid) {
				t.Errorf("Put(%q) = %v, want an error wrapping fs.ErrInvalid", name, err)
			} else if !strings.Contains(err.Error(), "key") {
				t.Errorf("Put(%q) error %q does not say the key is at fault", name, err)
			}
			if _, err := s.ReadAt(ctx, key, make([]byte, 1), 0); !errors.Is(err, fs.ErrInvalid) {
				t.Errorf("ReadAt(%q) = %v, want an error wrapping fs.ErrInvalid", name, err)
			}
			if err := s.Delete(ctx, key); !errors.Is(err, fs.ErrInvalid) {
				t.Errorf("Delete(%q) = %v, want an error wrapping fs.ErrInvalid", name, err)
			}
		})
	}
	if got := listKeys(t, s, ""); len(got) != 0 {
		t.Fatalf("after Puts of invalid keys, List = %q, want none", got)
	}
	// The longest valid key is accepted.
	put(t, s, strings.Repeat("k", 512), []byte("x"))
	put(t, s, "A-Za-z0-9/_.-", []byte("x"))
	put(t, s, ".hidden/_x/-y/a.b.c", []byte("x"))
}

func testInvalidPrefix(t *testing.T, newStore func(*testing.T) blob.Store) {
	s := newStore(t)
	put(t, s, "a", nil)
	for _, prefix := range []string{"a b", "..", "a/../", "/a", "ü", "a#", strings.Repeat("k", 513)} {
		err := s.List(context.Background(), prefix, func(string, int64) error { return nil })
		if !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("List(%.20q) = %v, want an error wrapping fs.ErrInvalid", prefix, err)
		}
	}
}

func testReadAfterOverwrite(t *testing.T, newStore func(*testing.T) blob.Store) {
	s := newStore(t)
	for i, data := range []string{"first", "second, longer", "3rd", ""} {
		put(t, s, "k/v", []byte(data))
		if got := readAll(t, s, "k/v", len(data)); string(got) != data {
			t.Fatalf("ReadAt after Put #%d = %q, want %q", i+1, got, data)
		}
	}
}

func testOverwriteAtomic(t *testing.T, newStore func(*testing.T) blob.Store) {
	s := newStore(t)
	ctx := context.Background()
	const size = 256 << 10
	versions := [][]byte{bytes.Repeat([]byte{'a'}, size), bytes.Repeat([]byte{'b'}, size)}
	put(t, s, "hot/key", versions[0])
	var wg sync.WaitGroup
	done := make(chan struct{})
	errs := make(chan error, 8)
	wg.Go(func() {
		defer close(done)
		for i := range 40 {
			if err := s.Put(ctx, "hot/key", versions[(i+1)%2]); err != nil {
				errs <- err
				return
			}
		}
	})
	for range 3 {
		wg.Go(func() {
			p := make([]byte, size+1)
			for {
				select {
				case <-done:
					return
				default:
				}
				n, err := s.ReadAt(ctx, "hot/key", p, 0)
				if n != size || err != io.EOF {
					errs <- fmt.Errorf("ReadAt during overwrite = %d, %v; want %d, io.EOF", n, err, size)
					return
				}
				if !bytes.Equal(p[:n], versions[0]) && !bytes.Equal(p[:n], versions[1]) {
					errs <- errors.New("ReadAt during overwrite returned a mix of old and new content")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := list(t, s, ""); !slices.Equal(got, []listed{{"hot/key", size}}) {
		t.Fatalf("List after overwrites = %v, want one key", got)
	}
}

func testConcurrent(t *testing.T, newStore func(*testing.T) blob.Store) {
	s := newStore(t)
	ctx := context.Background()
	const workers, perWorker = 8, 12
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				key := fmt.Sprintf("c/%d/%d", i%3, w*perWorker+i)
				data := pattern(uint64(w*perWorker+i), 1000+i)
				if err := s.Put(ctx, key, data); err != nil {
					errs <- err
					return
				}
				p := make([]byte, len(data))
				if n, err := s.ReadAt(ctx, key, p, 0); err != nil || n != len(data) || !bytes.Equal(p, data) {
					errs <- fmt.Errorf("ReadAt(%q) after Put = %d, %v (content equal %v)", key, n, err, bytes.Equal(p, data))
					return
				}
				if i%2 == 1 {
					if err := s.Delete(ctx, key); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := list(t, s, "c/")
	if len(got) != workers*perWorker/2 {
		t.Fatalf("List after concurrent Puts and Deletes = %d keys, want %d", len(got), workers*perWorker/2)
	}
	for _, l := range got {
		var w, i int
		fmt.Sscanf(l.key[strings.LastIndex(l.key, "/")+1:], "%d", &w)
		i = w % perWorker
		if l.size != int64(1000+i) {
			t.Errorf("List size of %q = %d, want %d", l.key, l.size, 1000+i)
		}
	}
}

func testCancelled(t *testing.T, newStore func(*testing.T) blob.Store) {
	s := newStore(t)
	put(t, s, "present", []byte("x"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Put(ctx, "new", []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := s.ReadAt(ctx, "present", make([]byte, 1), 0); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadAt with a cancelled context = %v, want context.Canceled", err)
	}
	if err := s.Delete(ctx, "present"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete with a cancelled context = %v, want context.Canceled", err)
	}
	called := false
	err := s.List(ctx, "", func(string, int64) error { called = true; return nil })
	if !errors.Is(err, context.Canceled) || called {
		t.Errorf("List with a cancelled context = %v (fn called: %v), want context.Canceled and no calls", err, called)
	}
	if got := listKeys(t, s, ""); !slices.Equal(got, []string{"present"}) {
		t.Errorf("after operations with a cancelled context, List = %q, want [present]", got)
	}
}
