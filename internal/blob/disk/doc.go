// Package disk is a blob.Store on a local directory, the default data store
// of a single-machine Tarn.
//
// # Layout
//
// Every object is a regular file. Each "/"-separated segment of a key but the
// last is a directory named after the segment with a "+" appended, so that
// key "a" (file "a") and key "a/b" (file "a+/b") can both exist, as they can
// in S3. A segment longer than 240 bytes, which would not fit the 255-byte
// name limit of common file systems, is cut into 240-byte pieces, each but
// the last a directory named after the piece with a "%" appended. Temporary
// files are named "tmp#" followed by random characters. None of "+", "%" and
// "#" may appear in a key, so no name is ambiguous; files and directories
// with other names are not the store's and are ignored.
//
//	chunks/7/42_0_4096   ->  chunks+/7+/42_0_4096
//
// # Durability and atomicity
//
// Put writes a temporary file in the object's directory, fsyncs it, renames
// it over the object's name and fsyncs the directory, so a Put that returned
// survives a kill -9 or a power loss, and readers see the old or the new
// object, never a mix. Directories Put creates are made durable by fsyncing
// their parents. Open syncs the whole file system once, so that directories
// left by a crashed process are durable before they are relied on, removes
// temporary files left by a crash and prunes empty directories. Objects of
// at least 1 MiB held in page-aligned memory and put as part of a stream
// (blob.Streaming) are written with direct I/O, bypassing the page cache
// (buffered writes are the fallback wherever the file system refuses it).
//
// Delete unlinks the file and removes the directories it leaves empty; it
// does not fsync, so a Delete shortly before a power loss may be undone. A
// garbage collector that deletes unreferenced objects finds such an object
// again on its next pass.
//
// A Put that runs out of space (ENOSPC, EDQUOT) returns an error wrapping
// blob.ErrNoSpace and leaves nothing behind.
//
// # Reads
//
// ReadAt is a pread on the object's file. The store keeps the most recently
// read files open (Options.OpenFiles, 128 by default), which makes a 4 KiB
// read of a hot object about six times faster than open, pread and close;
// Put and Delete drop the key's open file before they return, so a read that
// starts afterwards sees the new object or none.
//
// # Limits
//
// One Store owns a directory: two Stores, or two processes, on the same
// directory must not run at the same time, as Open removes the temporary
// files of the other and Usage would count wrongly. Open walks the whole
// tree and stats every object to count usage, which takes about a second
// per million objects.
package disk
