// Package logs stores the log events of functions on disk, one file per log
// stream under a directory per function, the way CloudWatch Logs groups
// them (/aws/lambda/<function>, one stream per execution environment).
//
// Each stream is a file of records: 8 bytes of Unix time in nanoseconds,
// 4 bytes of length, the message (big-endian). A stream is bounded: past
// Options.MaxStreamBytes its file is renamed to <stream>.1 (replacing the
// previous one) and a new one started, so a stream keeps at most twice that
// and loses its oldest events first. A torn record at the end of a file (a
// crash mid-write) ends the read there.
//
// Records are binary rather than JSON lines so that a handler writing
// gigabytes to stdout costs a copy, not an encoding per line. Follow delivers
// events appended by this process; it is how `tarn logs --follow` tails a
// function.
package logs

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults for Options' zero fields.
const (
	DefaultMaxStreamBytes = 64 << 20
	// MaxEventSize is the largest message of one event, as in CloudWatch
	// Logs (256 KiB); Append splits longer ones.
	MaxEventSize = 256 << 10
)

const headerSize = 12

// Event is one log event.
type Event struct {
	Time    time.Time
	Message string
}

// StreamEvent is an event with the stream it was appended to.
type StreamEvent struct {
	Stream string
	Event
}

// StreamInfo describes a stream.
type StreamInfo struct {
	Name        string
	FirstEvent  time.Time // zero when the stream is empty
	LastEvent   time.Time // the stream file's last change
	StoredBytes int64
}

// Options configures a Store. The zero value means the defaults.
type Options struct {
	// MaxStreamBytes bounds one stream's current file; 0 = 64 MiB.
	MaxStreamBytes int64
}

// Store is the log store under one directory. It is safe for concurrent
// use.
type Store struct {
	dir string
	max int64

	mu   sync.Mutex
	fns  map[string]*function
	open map[string]*Stream // by function and stream, while an appender holds it
}

type function struct {
	mu   sync.Mutex // orders appends and follows of the function
	subs map[*follower]struct{}
}

// Open returns the store under dir, creating dir if needed.
func Open(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("open log store %q: %w", dir, err)
	}
	if opts.MaxStreamBytes <= 0 {
		opts.MaxStreamBytes = DefaultMaxStreamBytes
	}
	return &Store{dir: dir, max: opts.MaxStreamBytes, fns: map[string]*function{}}, nil
}

func (s *Store) function(name string) *function {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.fns[name]
	if f == nil {
		f = &function{subs: map[*follower]struct{}{}}
		s.fns[name] = f
	}
	return f
}

func (s *Store) fnDir(fn string) string { return filepath.Join(s.dir, url.PathEscape(fn)) }

func (s *Store) path(fn, stream string) string {
	return filepath.Join(s.fnDir(fn), url.PathEscape(stream)+".log")
}

func validName(kind, name string) error {
	if name == "" || len(name) > 512 {
		return fmt.Errorf("%s name %q: %w", kind, name, fs.ErrInvalid)
	}
	return nil
}

// Stream is an open stream of one function, for appending.
type Stream struct {
	s      *Store
	fn     string
	name   string
	f      *function
	file   *os.File
	size   int64
	closed bool
}

// OpenStream opens (creating if needed) a stream for appending. The caller
// closes it.
func (s *Store) OpenStream(fn, stream string) (*Stream, error) {
	if err := validName("function", fn); err != nil {
		return nil, err
	}
	if err := validName("stream", stream); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.fnDir(fn), 0o750); err != nil {
		return nil, fmt.Errorf("open stream %q: %w", stream, err)
	}
	p := s.path(fn, stream)
	file, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open stream %q: %w", stream, err)
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("open stream %q: %w", stream, err)
	}
	return &Stream{s: s, fn: fn, name: stream, f: s.function(fn), file: file, size: st.Size()}, nil
}

// Name is the stream's name.
func (w *Stream) Name() string { return w.name }

// Append writes events to the stream, splitting messages longer than
// MaxEventSize, and hands them to the function's followers.
func (w *Stream) Append(events ...Event) error {
	w.f.mu.Lock()
	defer w.f.mu.Unlock()
	if w.closed {
		return fmt.Errorf("append to stream %q: %w", w.name, fs.ErrClosed)
	}
	var buf []byte
	var out []StreamEvent
	for _, e := range events {
		msg := e.Message
		for first := true; first || msg != ""; first = false {
			part := msg
			if len(part) > MaxEventSize {
				part = part[:MaxEventSize]
			}
			msg = msg[len(part):]
			var h [headerSize]byte
			binary.BigEndian.PutUint64(h[:8], uint64(e.Time.UnixNano()))
			binary.BigEndian.PutUint32(h[8:], uint32(len(part)))
			buf = append(append(buf, h[:]...), part...)
			if len(w.f.subs) > 0 {
				out = append(out, StreamEvent{w.name, Event{e.Time, part}})
			}
		}
	}
	if w.size+int64(len(buf)) > w.s.max && w.size > 0 {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	n, err := w.file.Write(buf)
	w.size += int64(n)
	if err != nil {
		return fmt.Errorf("append to stream %q: %w", w.name, err)
	}
	for f := range w.f.subs {
		f.push(out)
	}
	return nil
}

// rotate moves the current file aside; the caller holds w.f.mu.
func (w *Stream) rotate() error {
	p := w.s.path(w.fn, w.name)
	if err := os.Rename(p, p+".1"); err != nil {
		return fmt.Errorf("rotate stream %q: %w", w.name, err)
	}
	file, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND|os.O_TRUNC, 0o640)
	if err != nil {
		return fmt.Errorf("rotate stream %q: %w", w.name, err)
	}
	w.file.Close()
	w.file, w.size = file, 0
	return nil
}

// Close closes the stream for appending; its events stay stored.
func (w *Stream) Close() error {
	w.f.mu.Lock()
	defer w.f.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	return w.file.Close()
}

// Append appends events to a stream of fn, opening it for the call.
func (s *Store) Append(fn, stream string, events ...Event) error {
	w, err := s.OpenStream(fn, stream)
	if err != nil {
		return err
	}
	err = w.Append(events...)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}

// Streams lists the streams of fn by name; none (and no error) for a
// function without logs.
func (s *Store) Streams(fn string) ([]StreamInfo, error) {
	ents, err := os.ReadDir(s.fnDir(fn))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list streams of %q: %w", fn, err)
	}
	var out []StreamInfo
	for _, e := range ents {
		base, ok := strings.CutSuffix(e.Name(), ".log")
		if !ok {
			continue
		}
		name, err := url.PathUnescape(base)
		if err != nil {
			continue
		}
		info := StreamInfo{Name: name}
		for _, p := range []string{s.path(fn, name) + ".1", s.path(fn, name)} {
			st, err := os.Stat(p)
			if err != nil {
				continue
			}
			info.StoredBytes += st.Size()
			info.LastEvent = st.ModTime()
			if info.FirstEvent.IsZero() {
				info.FirstEvent = firstTime(p)
			}
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b StreamInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func firstTime(p string) time.Time {
	f, err := os.Open(p)
	if err != nil {
		return time.Time{}
	}
	defer f.Close()
	var h [headerSize]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(h[:8])))
}

// Query selects events of a stream.
type Query struct {
	Start, End time.Time // inclusive start, exclusive end; zero = unbounded
	// Limit is the most events returned: the first ones with FromHead, else
	// the last ones (as GetLogEvents does). 0 = all.
	Limit    int
	FromHead bool
}

// Read returns the events of a stream matching q, oldest first. A stream
// that does not exist is fs.ErrNotExist.
func (s *Store) Read(fn, stream string, q Query) ([]Event, error) {
	p := s.path(fn, stream)
	if _, err := os.Stat(p); err != nil {
		return nil, fmt.Errorf("read stream %q of %q: %w", stream, fn, fs.ErrNotExist)
	}
	var out []Event
	for _, file := range []string{p + ".1", p} {
		err := readFile(file, func(e Event) bool {
			if (!q.Start.IsZero() && e.Time.Before(q.Start)) || (!q.End.IsZero() && !e.Time.Before(q.End)) {
				return true
			}
			out = append(out, e)
			if q.Limit > 0 && q.FromHead && len(out) == q.Limit {
				return false
			}
			if q.Limit > 0 && !q.FromHead && len(out) > 2*q.Limit {
				out = append(out[:0], out[len(out)-q.Limit:]...)
			}
			return true
		})
		if err != nil {
			return nil, fmt.Errorf("read stream %q of %q: %w", stream, fn, err)
		}
		if q.Limit > 0 && q.FromHead && len(out) == q.Limit {
			break
		}
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[len(out)-q.Limit:]
	}
	return out, nil
}

// readFile calls fn for each whole record of file until fn returns false;
// a missing file has none.
func readFile(file string, fn func(Event) bool) error {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	var h [headerSize]byte
	for {
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return nil // end, or a torn header
		}
		n := binary.BigEndian.Uint32(h[8:])
		if n > MaxEventSize {
			return fmt.Errorf("corrupt record of %d bytes", n)
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(r, msg); err != nil {
			return nil // a torn record
		}
		if !fn(Event{time.Unix(0, int64(binary.BigEndian.Uint64(h[:8]))), string(msg)}) {
			return nil
		}
	}
}

// DeleteFunction removes every stream of fn.
func (s *Store) DeleteFunction(fn string) error {
	if err := os.RemoveAll(s.fnDir(fn)); err != nil {
		return fmt.Errorf("delete logs of %q: %w", fn, err)
	}
	return nil
}

// maxQueued bounds the events waiting for a slow follower; past it the
// oldest are dropped.
const maxQueued = 1 << 14

type follower struct {
	mu    sync.Mutex
	queue []StreamEvent
	wake  chan struct{}
	lost  int
}

func (f *follower) push(evs []StreamEvent) {
	f.mu.Lock()
	f.queue = append(f.queue, evs...)
	if over := len(f.queue) - maxQueued; over > 0 {
		f.queue = append(f.queue[:0], f.queue[over:]...)
		f.lost += over
	}
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Follow calls fn, in order, with every event of fn's streams at or after
// since (the stored ones first, by stream then time), then with each event
// appended later, until ctx ends; it returns ctx's error. A follower that
// falls more than 16,384 events behind loses the oldest.
func (s *Store) Follow(ctx context.Context, fnName string, since time.Time, fn func(StreamEvent)) error {
	f := s.function(fnName)
	fl := &follower{wake: make(chan struct{}, 1)}
	// Register and read the stored events under the function's lock, so no
	// event is both read and delivered, or neither.
	f.mu.Lock()
	var stored []StreamEvent
	streams, err := s.Streams(fnName)
	for _, st := range streams {
		if err != nil {
			break
		}
		var evs []Event
		evs, err = s.Read(fnName, st.Name, Query{Start: since})
		for _, e := range evs {
			stored = append(stored, StreamEvent{st.Name, e})
		}
	}
	if err == nil {
		f.subs[fl] = struct{}{}
	}
	f.mu.Unlock()
	if err != nil {
		return fmt.Errorf("follow %q: %w", fnName, err)
	}
	defer func() {
		f.mu.Lock()
		delete(f.subs, fl)
		f.mu.Unlock()
	}()
	for _, e := range stored {
		fn(e)
	}
	for {
		fl.mu.Lock()
		batch := fl.queue
		fl.queue = nil
		fl.mu.Unlock()
		for _, e := range batch {
			fn(e)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-fl.wake:
		}
	}
}
