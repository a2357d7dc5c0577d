// Package apiam holds end-to-end tests of access points and IAM client
// access on real FUSE mounts: the control plane is driven with the AWS CLI
// v2 (file systems, access points, users, keys, identity and file-system
// policies) and mounts with `tarn mount`, as a user would.
//
// The story test follows the issue: two access points on one file system
// each see only their own tree and force their owners; read-only users,
// denied users and users without ClientRootAccess get what EFS gives them;
// malformed policies are refused with the position of the problem. The
// confinement tests attack an access point mount from inside (`..`,
// symbolic links, a racing rename, hard links, renames across mounts,
// open_by_handle_at, other uids, chown) and then check that nothing outside
// the access point's root changed.
//
// The tests need root and /dev/fuse, and the AWS CLI v2 at /usr/bin/aws
// (apt-get install awscli). Without them they skip, unless
// TARN_E2E_REQUIRE=1 is set, in which case they fail.
//
// Run with: go test -race ./test/apiam/ (TARN_E2E_BIN=/path/to/tarn tests
// that binary instead of building cmd/tarn).
package apiam
