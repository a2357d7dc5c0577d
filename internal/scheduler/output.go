package scheduler

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"tarn.dev/tarn/internal/logs"
)

// tailSize is how much of an invocation's log Response.LogTail keeps, as
// Lambda's X-Amz-Log-Result does.
const tailSize = 4 << 10

// output captures an environment's stdout and stderr (one pipe, as Lambda
// merges them) line by line into its log stream.
//
// The read end is non-blocking and data leaves the pipe only under mu, so
// drain, which reads what is left in the pipe under mu, knows on return that
// every byte written before it was called is in the stream: what the handler
// printed before posting its response comes before END.
type output struct {
	r      *os.File
	stream *logs.Stream // nil when the scheduler has no log store
	done   chan struct{}

	mu      sync.Mutex
	partial []byte
	buf     []byte
	tail    []byte // the invocation's log, its last tailSize bytes; nil outside one
	inTail  bool
	eof     bool
}

// newOutput returns the capture of a new pipe and the pipe's write end for
// the sandbox. The write end is blocking (a handler filling the pipe waits,
// it does not fail with EAGAIN); the read end is non-blocking, read through
// the runtime's poller.
func newOutput(stream *logs.Stream) (*output, *os.File, error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, fmt.Errorf("output pipe: %w", err)
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return nil, nil, fmt.Errorf("output pipe: %w", err)
	}
	r := os.NewFile(uintptr(fds[0]), "output")
	w := os.NewFile(uintptr(fds[1]), "output")
	o := &output{r: r, stream: stream, done: make(chan struct{}), buf: make([]byte, 64<<10)}
	go o.run()
	return o, w, nil
}

// run copies the pipe until every writer has closed it.
func (o *output) run() {
	defer close(o.done)
	rc, err := o.r.SyscallConn()
	if err != nil {
		return
	}
	for {
		var eof bool
		err := rc.Read(func(fd uintptr) bool {
			o.mu.Lock()
			defer o.mu.Unlock()
			// A bounded chunk per hold of the lock, so drain gets it in
			// time against a handler that never stops writing; false
			// waits for the pipe to become readable again.
			_, more := o.readLocked(int(fd), len(o.buf))
			eof = o.eof
			return eof || more
		})
		if err != nil || eof {
			o.mu.Lock()
			o.flushLocked()
			o.mu.Unlock()
			return
		}
	}
}

// readLocked reads at most limit bytes from fd and logs the complete lines.
// more reports that the pipe was not found empty (the caller should read
// again without waiting). The caller holds mu.
func (o *output) readLocked(fd, limit int) (int, bool) {
	total := 0
	for total < limit {
		n, err := unix.Read(fd, o.buf[:min(len(o.buf), limit-total)])
		if n > 0 {
			total += n
			o.linesLocked(o.buf[:n])
			continue
		}
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if n == 0 && err == nil {
			o.eof = true
		}
		if errors.Is(err, syscall.EAGAIN) || o.eof || err != nil {
			if err != nil && !errors.Is(err, syscall.EAGAIN) {
				o.eof = true
			}
			return total, false
		}
	}
	return total, true
}

// linesLocked logs each complete line of p, keeping the rest for later; a
// line longer than an event's limit is logged in parts.
func (o *output) linesLocked(p []byte) {
	now := time.Now()
	var evs []logs.Event
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			o.partial = append(o.partial, p...)
			if len(o.partial) >= logs.MaxEventSize {
				evs = append(evs, logs.Event{Time: now, Message: string(o.partial)})
				o.partial = o.partial[:0]
			}
			break
		}
		var line string
		if len(o.partial) > 0 {
			line = string(append(o.partial, p[:i]...))
			o.partial = o.partial[:0]
		} else {
			line = string(p[:i])
		}
		evs = append(evs, logs.Event{Time: now, Message: line})
		p = p[i+1:]
	}
	o.appendLocked(evs)
}

func (o *output) appendLocked(evs []logs.Event) {
	if len(evs) == 0 {
		return
	}
	if o.stream != nil {
		_ = o.stream.Append(evs...) // a full disk must not stop the function
	}
	if o.inTail {
		for _, e := range evs {
			o.tail = append(o.tail, e.Message...)
			o.tail = append(o.tail, '\n')
		}
		if over := len(o.tail) - tailSize; over > 0 {
			o.tail = append(o.tail[:0], o.tail[over:]...)
		}
	}
}

// flushLocked logs a trailing partial line.
func (o *output) flushLocked() {
	if len(o.partial) > 0 {
		o.appendLocked([]logs.Event{{Time: time.Now(), Message: string(o.partial)}})
		o.partial = o.partial[:0]
	}
}

// drain logs what the pipe holds now, and a trailing partial line.
func (o *output) drain() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.eof {
		if rc, err := o.r.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) {
				pending, err := unix.IoctlGetInt(int(fd), unix.TIOCINQ)
				if err == nil && pending > 0 {
					o.readLocked(int(fd), pending)
				}
			})
		}
	}
	o.flushLocked()
}

// log writes platform lines (START, END, REPORT …) into the stream.
func (o *output) log(lines ...string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := time.Now()
	evs := make([]logs.Event, len(lines))
	for i, l := range lines {
		evs[i] = logs.Event{Time: now, Message: l}
	}
	o.appendLocked(evs)
}

// beginTail starts collecting an invocation's log.
func (o *output) beginTail() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.inTail, o.tail = true, o.tail[:0]
}

// endTail stops collecting and returns the invocation's log tail.
func (o *output) endTail() []byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.inTail = false
	return bytes.Clone(o.tail)
}

// close waits for the copy to end (every writer gone) and closes the pipe
// and the stream.
func (o *output) close() {
	<-o.done
	o.r.Close()
	if o.stream != nil {
		o.stream.Close()
	}
}
