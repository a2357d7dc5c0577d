package iam

import "strconv"

// Actions and condition keys of NFS clients of a file system.
const (
	ActionClientMount      = "elasticfilesystem:ClientMount"
	ActionClientWrite      = "elasticfilesystem:ClientWrite"
	ActionClientRootAccess = "elasticfilesystem:ClientRootAccess"

	KeyAccessPointArn         = "elasticfilesystem:AccessPointArn"
	KeyAccessedViaMountTarget = "elasticfilesystem:AccessedViaMountTarget"
	KeySecureTransport        = "aws:SecureTransport"
)

// EFSDefaultPolicyDocument is the policy in force for a file system that has
// none: every principal that reaches a mount target may mount, write and act
// as root.
const EFSDefaultPolicyDocument = `{
  "Version": "2012-10-17",
  "Id": "efs-default-policy",
  "Statement": [
    {
      "Sid": "efs-default-statement",
      "Effect": "Allow",
      "Principal": {"AWS": "*"},
      "Action": [
        "elasticfilesystem:ClientRootAccess",
        "elasticfilesystem:ClientWrite",
        "elasticfilesystem:ClientMount"
      ],
      "Condition": {"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}}
    }
  ]
}`

// EFSDefaultPolicy is EFSDefaultPolicyDocument, parsed.
var EFSDefaultPolicy = func() *Policy {
	p, err := ParseAs(EFSDefaultPolicyDocument, Resource)
	if err != nil {
		panic(err)
	}
	p.Name = "EFS default file system policy"
	return p
}()

// allowAll is the implicit identity policy of an account's root user.
var allowAll = &Policy{Name: "account root", Version: Version2012,
	Statements: []Statement{{Effect: Allow, Actions: []string{"*"}, Resources: []string{"*"}}}}

// IsRoot reports whether principal is an account's root user
// (arn:aws:iam::123456789012:root).
func IsRoot(principal string) bool {
	return len(principal) > 5 && principal[len(principal)-5:] == ":root"
}

// ClientAccess decides what an NFS client may do with a file system, as EFS
// does at mount time: mount needs ClientMount; without ClientWrite the mount
// is read-only; without ClientRootAccess uid 0 is squashed. fsPolicy nil
// means the file system has no policy and EFSDefaultPolicy applies.
// identity holds the policies of principal (none for an anonymous client,
// principal ""); an account root principal has every identity permission.
// apArn is the access point mounted through, or "". secure says whether the
// connection uses TLS.
func ClientAccess(identity []*Policy, fsPolicy *Policy, principal, fsArn, apArn string, secure bool) (mount, write, root bool) {
	if fsPolicy == nil {
		fsPolicy = EFSDefaultPolicy
	}
	if IsRoot(principal) {
		identity = append([]*Policy{allowAll}, identity...)
	}
	ctx := map[string][]string{
		KeySecureTransport:        {strconv.FormatBool(secure)},
		KeyAccessedViaMountTarget: {"true"},
	}
	if apArn != "" {
		ctx[KeyAccessPointArn] = []string{apArn}
	}
	allowed := func(action string) bool {
		return Evaluate(Request{Principal: principal, Action: action, Resource: fsArn, Context: ctx}, identity, fsPolicy).Allowed
	}
	if !allowed(ActionClientMount) {
		return false, false, false
	}
	return true, allowed(ActionClientWrite), allowed(ActionClientRootAccess)
}
