// Package iam parses and evaluates AWS IAM policy documents. Every part of
// Tarn that authorizes something uses it: the control APIs (a user's key
// may do only what its policies allow), the file service (ClientMount,
// ClientWrite and ClientRootAccess against a file-system policy) and the IAM
// API itself (documents are checked when they are put).
//
// # Documents
//
// Parse and ParseAs accept the policy grammar AWS accepts: Version
// ("2012-10-17" or "2008-10-17"), Id, and Statement as one object or a list;
// each statement has Sid, Effect, Action or NotAction, Resource or
// NotResource, Principal or NotPrincipal ("*", {"AWS": …}, {"Service": …},
// {"Federated": …}, {"CanonicalUser": …}) and Condition. Every problem is a
// *ParseError with the line and column of the member at fault — a JSON
// syntax error, an unknown element, an Effect other than Allow or Deny, an
// Action that is not a string or a list of strings, an unknown condition
// operator, a condition value the operator cannot compare. ParseAs also
// checks what the kind of policy requires: identity policies have a
// Resource and no Principal, resource and trust policies have a Principal,
// trust policies have no Resource.
//
// # Evaluation
//
// Evaluate follows AWS's logic for requests within one account: an explicit
// Deny in any policy decides; otherwise an Allow in an identity policy or in
// the resource policy allows; otherwise the request is implicitly denied.
// Across accounts (the principal's ARN names another account than the
// resource's) both an identity and a resource Allow are needed. Actions
// match case-insensitively, resources case-sensitively; both take the * and
// ? wildcards. In resource policies a statement applies when its principal
// matches: "*" and {"AWS": "*"} match everyone (also an anonymous caller),
// an account id or "arn:aws:iam::<account>:root" matches every principal of
// that account, a role ARN matches the role and its assumed-role sessions.
//
// Conditions support StringEquals, StringNotEquals, StringEqualsIgnoreCase,
// StringNotEqualsIgnoreCase, StringLike, StringNotLike, ArnEquals,
// ArnNotEquals, ArnLike, ArnNotLike, Bool, Null, the Numeric*, Date* and
// IpAddress/NotIpAddress families, the IfExists suffix and the ForAnyValue /
// ForAllValues set prefixes. Condition keys match case-insensitively. A
// missing key makes a positive operator false and a negated operator true,
// unless IfExists makes the condition true.
//
// # EFS
//
// ClientAccess decides a mount: ClientMount is needed to mount at all,
// ClientWrite to write and ClientRootAccess for uid 0 to keep its power.
// The request carries aws:SecureTransport, elasticfilesystem:AccessPointArn
// and elasticfilesystem:AccessedViaMountTarget. A file system without a
// policy gets EFSDefaultPolicy (everyone may do everything through a mount
// target).
//
// # Deviations
//
// Policy variables (${aws:username}) are not substituted. Permissions
// boundaries, session policies, service control policies and groups do not
// exist in Tarn. ArnEquals and ArnLike both take wildcards, field by field.
// The ids of the AWS managed policies are derived from their ARNs, not the
// ones AWS uses.
package iam
