package vfs

import (
	"context"
	"syscall"
	"testing"
)

// The kernel sends RELEASE after close(2) returns, so a checker may run
// while the last close of an unlinked file is deleting it: that inode has no
// entry and no open handle for a moment, and is not an orphan.
func TestFsckDoesNotReportFileBeingDeletedAtLastClose(t *testing.T) {
	ctx := context.Background()
	f, _ := openCached(t)
	a, h, err := f.Create(ctx, Root, RootIno, "f", 0o644, syscall.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Unlink(ctx, Root, RootIno, "f"); err != nil {
		t.Fatal(err)
	}
	// The first half of the last close (closeState): no handle left, the
	// inode marked for deletion, the deletion not yet committed.
	f.mu.Lock()
	hd := f.handles[h]
	delete(f.handles, h)
	hd.st.opens--
	f.reaping[a.Ino] = true
	f.mu.Unlock()

	r, err := f.Fsck(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		t.Errorf("fsck during the deletion of an unlinked file: %v", r.Problems)
	}

	if err := f.reap(ctx, a.Ino); err != nil {
		t.Fatal(err)
	}
	f.doneReaping([]Ino{a.Ino})
	f.release(hd.st)
	if r, err := f.Fsck(ctx, false); err != nil || !r.OK() {
		t.Errorf("fsck after the deletion: %v %v", r.Problems, err)
	}
}
