// Package fsrobust holds robustness tests of Tarn's file system through real
// FUSE mounts: a randomized exerciser checked against an in-memory model, a
// 1.5 GiB file, a zip of thousands of files extracted on a mount, a kill -9
// of the server during writes, concurrent rename races, invalid names, huge
// offsets, locks of killed clients and a full data disk.
//
// The tests mount file systems and therefore need root and /dev/fuse; they
// skip otherwise. Processes that map files of a mount (mmap) or that must die
// while holding locks are children: the test binary started again with
// TARN_FSTEST_CHILD set, because a process must not fault on pages of a FUSE
// mount it serves itself. The crash test builds cmd/tarn (or uses
// TARN_E2E_BIN) and drives a real server.
//
// Environment:
//
//	TARN_TEST_SEED   seed of the randomized tests (default: the time; printed)
//	TARN_FSTEST_OPS  operations of the exerciser (default 100000)
//	TARN_E2E_BIN     a tarn binary to test instead of building cmd/tarn
//
// Run with: go test -race ./test/fstest/
package fsrobust
