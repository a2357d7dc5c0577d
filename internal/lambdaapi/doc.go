/*
Package lambdaapi serves the AWS Lambda control API.

# Records

Every function, version, alias, reserved and provisioned concurrency
setting, resource-policy statement and queued Event invocation lives in the
control-plane store (internal/store, functions.go), so a restarted server
keeps all of them. The API owns the JSON documents; the store keys them and
keeps versions numbered and deletes cascading.

# Code

Only Code.ZipFile is accepted (S3 locations and images are refused with
InvalidParameterValueException). A package larger than MaxZipBytes (50 MB)
is RequestEntityTooLargeException; it is unpacked once per content into
<CodeRoot>/<function>/<hex sha256>/, refusing corrupt archives, entries with
absolute or ".." paths, symlinks whose target leaves the package, entries
beneath a symlink and more than MaxUnzippedBytes (250 MB) written — all
InvalidParameterValueException "Could not unzip uploaded file…" or
"Unzipped size must be smaller than …". Symlinks are made after every file,
so nothing is written through one. CodeSha256 is the base64 SHA-256 of the
zip, as on AWS. Packages no version uses any more are removed.

# States

A function with FileSystemConfigs is created Pending (StateReasonCode
Creating, LastUpdateStatus InProgress) and becomes Active after
SettleDelay; others are Active at once. Every update leaves
LastUpdateStatus InProgress for SettleDelay, during which further updates
and PublishVersion get 409 ResourceConflictException with AWS's wording. A
restart settles whatever was left Pending or InProgress.

# Invoke

The API resolves the name (bare, partial or full ARN), the qualifier
($LATEST, a version, or an alias with its routing weights) and checks state,
payload limits (6 MB RequestResponse, 1 MB Event: 413
RequestEntityTooLargeException) and JSON; it answers DryRun (204) and
reserved concurrency 0 (429) itself and hands the rest to the Runner.
Event invocations are stored and answered 202; a worker delivers them with
at-least-once semantics: a failure (function error or runner error) is
retried after RetryDelays (1 and 2 minutes), throttles are retried without
counting, events older than MaxEventAge (6 h) or of deleted functions are
dropped, and a delivery cut short by a stop is made again at the next start
with the same request id.

# Tarn's extension: function logs

GET /2015-03-31/functions/{FunctionName}/tarn-logs (signed for the lambda
service, authorized as lambda:GetFunction) returns the function's log events
through the Logs interface: ?tail=N, ?cursor=C&limit=N, and ?follow=1 to
stream newline-delimited JSON events until the client disconnects. It has no
AWS counterpart (AWS keeps logs in CloudWatch Logs).

# Deviations from AWS

  - VpcConfig is accepted, validated and shown (VpcId "vpc-tarn") but not
    required for file systems, and nothing is attached.
  - During an update InProgress, invocations already run the new
    configuration (AWS keeps the previous one until the update completes).
  - GetFunction's Code.Location is empty: there is no presigned download.
  - Resource-policy statements are stored and returned but not evaluated at
    Invoke; the caller's IAM identity is (through Config.Authorize).
  - Provisioned concurrency is READY as soon as Runner.Configure returns.
  - Function URLs, layers, event source mappings, tags APIs, code signing
    and SnapStart are not served.
*/
package lambdaapi
