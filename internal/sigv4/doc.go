// Package sigv4 verifies AWS Signature Version 4 signatures on requests to
// Tarn's AWS-compatible control APIs (EFS, Lambda, IAM, API Gateway v2).
//
// There is no maintained SigV4 *verifier* library for Go: the AWS SDKs only
// sign. Re-signing an incoming request with the SDK signer and comparing does
// not work either, because every client signs a different header set (the Go
// SDK signs content-length and its amz-sdk-* headers; botocore and the AWS CLI
// sign only host, x-amz-date and content-type when there is a body; and so on).
// So the verification is written here by hand, rebuilding the canonical request
// from the request's own signed-header list.
//
// # Canonical request
//
// For header-signed requests (Authorization: AWS4-HMAC-SHA256 Credential=…,
// SignedHeaders=…, Signature=…) the canonical request is
//
//	Method
//	CanonicalURI      the path exactly as it arrived on the wire (r.RequestURI),
//	                  URI-encoded once more, as the SDKs do for every service but S3
//	CanonicalQuery    each name and value decoded, re-encoded (RFC 3986, %20 for
//	                  space) and sorted by name, then value
//	CanonicalHeaders  name:value for each name in SignedHeaders, in the order given;
//	                  values trimmed, runs of spaces collapsed, repeats joined by ","
//	SignedHeaders     the list exactly as the client sent it
//	PayloadHash       X-Amz-Content-Sha256 when present (it must then match the
//	                  body), else the hex SHA-256 of the body
//
// The string to sign is "AWS4-HMAC-SHA256\n" + X-Amz-Date + "\n" + scope + "\n" +
// hex(sha256(canonical request)), and the key is derived by the chain
// HMAC("AWS4"+secret, date) → region → service → "aws4_request". The computed
// signature is compared with hmac.Equal.
//
// Because the path is taken from r.RequestURI, the verifier sees the signed path
// even when a router (such as http.StripPrefix) has rewritten r.URL. Requests
// built in-process (no RequestURI) use r.URL.Opaque or r.URL.EscapedPath, as the
// Go SDK signer does.
//
// # Client differences accepted
//
// When the first computation does not match, two more canonical forms are
// tried, and only when they differ from the first: botocore normalises the path
// before signing (removes "." and ".." segments and empty segments from "//"),
// and botocore signs a query already present in the URL in its raw, sorted form
// rather than decoded and re-encoded. These only matter for requests botocore
// builds from URLs with such shapes; its own serialisers produce the standard
// form. Because of the first, a signature for "/a/b" also verifies for
// "/a/./b" or "/a//b": handlers should resolve resources from the cleaned path
// (or reject unclean ones), as AWS does.
//
// If X-Amz-Date is absent the Date header is used, as AWS allows: HTTP date
// formats, and RFC 1123 with a numeric zone as botocore writes it.
//
// # Presigned URLs
//
// A request carrying X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
// X-Amz-SignedHeaders and X-Amz-Signature in its query is checked the same way,
// with X-Amz-Signature left out of the canonical query. Its payload is
// UNSIGNED-PAYLOAD (or, failing that, the hash of the body). X-Amz-Expires, when
// present, must be 1..604800 seconds and bounds the validity; without it the
// usual clock-skew window applies. Identity.UnsignedPayload reports that the
// body was not covered by the signature.
//
// # Checks and errors
//
// Every error is an *Error carrying the AWS error code and message; AWS sends
// all of them with HTTP 403. In order:
//
//   - no Authorization header and no presigned query: MissingAuthenticationTokenException
//   - malformed Authorization header or query, unsupported algorithm, missing
//     date, malformed credential scope (not key/yyyymmdd/region/service/aws4_request),
//     host or a present X-Amz-Security-Token left unsigned: IncompleteSignatureException
//   - credential date differing from the request date, date outside the allowed
//     skew (15 minutes by default) or past X-Amz-Expires, payload hash header not
//     matching the body: InvalidSignatureException. The skew messages are AWS's:
//     "Signature expired: <date> is now earlier than <now-skew> (<now> - 15 min.)"
//     and "Signature not yet current: <date> is still later than <now+skew>
//     (<now> + 15 min.)".
//   - unknown access key: UnrecognizedClientException
//   - signature mismatch: InvalidSignatureException
//
// The region and service in the credential scope are not checked here: they are
// returned in Identity so the caller can route by service and reject scopes it
// does not serve. X-Amz-Security-Token is accepted when it is signed; its value
// is not checked because Tarn does not issue session credentials.
//
// Deviations from AWS: header values are trimmed of spaces and tabs at the ends
// but only runs of spaces are collapsed inside (as the Go SDK does; botocore also
// collapses tabs). UNSIGNED-PAYLOAD on header-signed requests is refused unless
// Verifier.AllowUnsignedPayload is set, and streaming (chunked) payload
// signatures are not supported.
package sigv4
