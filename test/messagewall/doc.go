// Package messagewall is the end-to-end test of the message wall from
// examples/messagewall: it builds the wall on a fresh `tarn server` with the
// AWS CLI alone (a role with the EFS client policy, a file system, an access
// point, the Python function mounted at /mnt/msg, an HTTP API with the
// route ANY /MessageWall on stage default) and checks it with curl — the
// blog's transcript, then 16 concurrent writers while readers poll, and
// finally the file as a host mount of the file system sees it.
//
// It needs root (sandboxes, FUSE), /usr/bin/aws and /usr/bin/curl; without
// them it skips, unless TARN_E2E_REQUIRE=1, in which case it fails.
//
// Run with: go test -race ./test/messagewall/
package messagewall
