// Package e2e holds end-to-end tests of the tarn binary. They build
// cmd/tarn once, start real servers on loopback with a fresh data directory
// each, and drive them the way users do: with the AWS CLI v2, boto3, the AWS
// SDK for Go v2 and the tarn porcelain commands.
//
// The AWS CLI tests need Debian's /usr/bin/aws and the boto3 tests Debian's
// python3-boto3 under /usr/bin/python3 (apt-get install awscli python3-boto3).
// Without them those tests skip, unless TARN_E2E_REQUIRE=1 is set, in which
// case they fail.
//
// Run with: go test -race ./test/e2e/ (TARN_E2E_BIN=/path/to/tarn tests that
// binary instead of building cmd/tarn).
package e2e
