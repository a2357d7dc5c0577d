package lock_test

import (
	"context"
	"errors"
	"fmt"

	"tarn.dev/tarn/internal/lock"
)

// A FUSE adapter passes each request through with the mount's session; the
// FLUSH of a closing file drops the process's POSIX locks.
func Example() {
	tab := lock.New(lock.Config{})
	const mount lock.Session = 1
	const ino = 42

	// Process A (lock owner 0xa) write-locks bytes 0..99.
	a := lock.Request{Session: mount, Ino: ino, Owner: 0xa, PID: 100, Start: 0, End: 99, Type: lock.Write}
	if err := tab.SetLk(a); err != nil {
		panic(err)
	}

	// Process B asks about bytes 50..to EOF, then tries to lock them.
	b := lock.Request{Session: mount, Ino: ino, Owner: 0xb, PID: 200, Start: 50, End: lock.ToEOF, Type: lock.Read}
	held, _ := tab.GetLk(b)
	fmt.Printf("F_GETLK: %v [%d,%d] held by pid %d\n", held.Type, held.Start, held.End, held.PID)
	err := tab.SetLk(b)
	fmt.Println("F_SETLK:", errors.Is(err, lock.ErrWouldBlock))

	// B waits in F_SETLKW until A closes the file (FLUSH), which the kernel
	// reports with A's lock owner.
	done := make(chan error)
	go func() { done <- tab.SetLkw(context.Background(), b) }()
	tab.ReleasePOSIX(mount, ino, 0xa)
	fmt.Println("F_SETLKW:", <-done)
	fmt.Println("records:", tab.Held(ino))
	// Output:
	// F_GETLK: write [0,99] held by pid 100
	// F_SETLK: true
	// F_SETLKW: <nil>
	// records: 1
}
