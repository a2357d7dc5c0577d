// Package lambda holds the acceptance tests of functions in tarn server:
// real servers started with internal/testserver, set up with Debian's AWS
// CLI (IAM role, EFS file system and access point, a Python function with
// FileSystemConfigs) and loaded with the AWS SDK for Go v2's Lambda client,
// signed like any other client.
//
// They check that reserved concurrency caps the environments a function
// runs (1,000 invocations from 16 clients), that provisioned concurrency
// makes the first invocation of a version warm, that reserved concurrency 0
// throttles, that a restart keeps every function, version, alias and
// concurrency setting and delivers Event invocations queued before it, and
// that eight environments appending under flock(2) to one file on the shared
// file system leave exactly 8,000 intact lines.
//
// They need root (FUSE mounts and sandboxes) and /usr/bin/aws; without them
// they skip, unless TARN_E2E_REQUIRE=1. Run with: go test -race ./test/lambda/
package lambda
