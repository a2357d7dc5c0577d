package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func openIAMTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "tarn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

const acct = "arn:aws:iam::123456789012:"

func TestIAMUsersAndAccessKeys(t *testing.T) {
	ctx := context.Background()
	s := openIAMTest(t)
	now := time.Unix(1700000000, 0).UTC()
	bob := IAMUser{Name: "bob", ID: "AIDAEXAMPLEBOB", Path: "/", ARN: acct + "user/bob", Created: now}
	if err := s.CreateUser(ctx, bob); err != nil {
		t.Fatal(err)
	}
	var ee *ExistsError
	if err := s.CreateUser(ctx, IAMUser{Name: "BOB", ID: "x", Path: "/", ARN: acct + "user/BOB", Created: now}); !errors.As(err, &ee) {
		t.Errorf("CreateUser(BOB) = %v, want *ExistsError (names are case-insensitive)", err)
	}
	if got, err := s.User(ctx, "Bob"); err != nil || got != bob {
		t.Errorf("User(Bob) = %+v, %v; want %+v", got, err, bob)
	}
	if got, err := s.UserByARN(ctx, bob.ARN); err != nil || got.Name != "bob" {
		t.Errorf("UserByARN = %+v, %v", got, err)
	}
	if _, err := s.User(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("User(alice) = %v, want ErrNotFound", err)
	}
	s.CreateUser(ctx, IAMUser{Name: "ops", ID: "AIDAOPS", Path: "/team/", ARN: acct + "user/team/ops", Created: now})
	if us, _ := s.Users(ctx, "/team/"); len(us) != 1 || us[0].Name != "ops" {
		t.Errorf("Users(/team/) = %+v", us)
	}
	if us, _ := s.Users(ctx, "/"); len(us) != 2 {
		t.Errorf("Users(/) = %+v, want 2", us)
	}

	for i, id := range []string{"AKIA1", "AKIA2"} {
		if err := s.CreateAccessKey(ctx, AccessKey{ID: id, Secret: "s", Principal: bob.ARN, Created: now.Add(time.Duration(i) * time.Second)}, 2); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateAccessKey(ctx, AccessKey{ID: "AKIA3", Secret: "s", Principal: bob.ARN, Created: now}, 2); !errors.Is(err, ErrLimitExceeded) {
		t.Errorf("third key = %v, want ErrLimitExceeded", err)
	}
	if err := s.SetAccessKeyStatus(ctx, "AKIA1", "Inactive"); err != nil {
		t.Fatal(err)
	}
	keys, _ := s.AccessKeys(ctx, bob.ARN)
	if len(keys) != 2 || keys[0].ID != "AKIA1" || keys[0].Status != "Inactive" || keys[1].Status != "Active" {
		t.Errorf("AccessKeys = %+v", keys)
	}
	var de *DependentsError
	if err := s.DeleteUser(ctx, "bob"); !errors.As(err, &de) || de.Dependents != "access keys" || !errors.Is(err, ErrInUse) {
		t.Errorf("DeleteUser with keys = %v, want DependentsError{access keys}", err)
	}
	for _, id := range []string{"AKIA1", "AKIA2"} {
		if err := s.DeleteAccessKey(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteAccessKey(ctx, "AKIA1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteAccessKey twice = %v, want ErrNotFound", err)
	}
	if err := s.PutInlinePolicy(ctx, UserOwner, "bob", "p", `{}`, 2048); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "bob"); !errors.As(err, &de) || de.Dependents != "policies" {
		t.Errorf("DeleteUser with policies = %v", err)
	}
	s.DeleteInlinePolicy(ctx, UserOwner, "bob", "p")
	if err := s.DeleteUser(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "bob"); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteUser twice = %v", err)
	}
}

func TestIAMRolesInlineAndAttachedPolicies(t *testing.T) {
	ctx := context.Background()
	s := openIAMTest(t)
	now := time.Unix(1700000000, 0).UTC()
	role := Role{Name: "fn", ID: "AROAFN", Path: "/service-role/", ARN: acct + "role/service-role/fn",
		AssumeRolePolicy: `{"trust":1}`, Description: "d", MaxSessionDuration: 3600, Created: now}
	if err := s.CreateRole(ctx, role); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Role(ctx, "FN"); err != nil || got != role {
		t.Errorf("Role = %+v, %v; want %+v", got, err, role)
	}
	if got, err := s.RoleByARN(ctx, role.ARN); err != nil || got.Name != "fn" {
		t.Errorf("RoleByARN = %+v, %v", got, err)
	}
	if err := s.UpdateAssumeRolePolicy(ctx, "fn", `{"trust":2}`); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Role(ctx, "fn"); got.AssumeRolePolicy != `{"trust":2}` {
		t.Errorf("trust policy = %s", got.AssumeRolePolicy)
	}
	if err := s.UpdateAssumeRolePolicy(ctx, "nope", `{}`); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateAssumeRolePolicy(nope) = %v", err)
	}

	// Inline policies: replace, size limit over all of the role's policies.
	if err := s.PutInlinePolicy(ctx, RoleOwner, "fn", "a", "12345", 10); err != nil {
		t.Fatal(err)
	}
	if err := s.PutInlinePolicy(ctx, RoleOwner, "fn", "a", "1234567", 10); err != nil {
		t.Fatalf("replacing counts only the new document: %v", err)
	}
	if err := s.PutInlinePolicy(ctx, RoleOwner, "fn", "b", "1234", 10); !errors.Is(err, ErrLimitExceeded) {
		t.Errorf("over the total = %v, want ErrLimitExceeded", err)
	}
	if err := s.PutInlinePolicy(ctx, RoleOwner, "nope", "a", "x", 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("policy of missing role = %v", err)
	}
	if doc, err := s.InlinePolicy(ctx, RoleOwner, "fn", "A"); err != nil || doc != "1234567" {
		t.Errorf("InlinePolicy = %q, %v", doc, err)
	}
	if ps, _ := s.InlinePolicies(ctx, RoleOwner, "fn"); len(ps) != 1 || ps[0].Name != "a" {
		t.Errorf("InlinePolicies = %+v", ps)
	}

	// Customer managed policy, attachments, limits and conflicts.
	pol := ManagedPolicy{ARN: acct + "policy/efs", Name: "efs", ID: "ANPAEFS", Path: "/", Created: now}
	if err := s.CreatePolicy(ctx, pol, `{"v":1}`); err != nil {
		t.Fatal(err)
	}
	var ee *ExistsError
	if err := s.CreatePolicy(ctx, ManagedPolicy{ARN: acct + "policy/x/EFS", Name: "EFS", Path: "/x/", Created: now}, `{}`); !errors.As(err, &ee) {
		t.Errorf("duplicate policy name = %v", err)
	}
	const rw = "arn:aws:iam::aws:policy/AmazonElasticFileSystemClientReadWriteAccess"
	for _, arn := range []string{pol.ARN, rw, rw} {
		if err := s.AttachPolicy(ctx, RoleOwner, "fn", arn, 2); err != nil {
			t.Fatalf("AttachPolicy(%s) = %v", arn, err)
		}
	}
	if err := s.AttachPolicy(ctx, RoleOwner, "fn", "arn:aws:iam::aws:policy/Other", 2); !errors.Is(err, ErrLimitExceeded) {
		t.Errorf("third attachment = %v, want ErrLimitExceeded", err)
	}
	if err := s.AttachPolicy(ctx, RoleOwner, "fn", acct+"policy/missing", 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("attach missing customer policy = %v", err)
	}
	if got, _ := s.AttachedPolicies(ctx, RoleOwner, "fn"); len(got) != 2 || got[0] != pol.ARN || got[1] != rw {
		t.Errorf("AttachedPolicies = %v", got)
	}
	if p, _ := s.Policy(ctx, pol.ARN); p.AttachmentCount != 1 || p.DefaultVersion != "v1" {
		t.Errorf("Policy = %+v", p)
	}
	if c, _ := s.AttachmentCounts(ctx); c[rw] != 1 || c[pol.ARN] != 1 {
		t.Errorf("AttachmentCounts = %v", c)
	}
	var de *DependentsError
	if err := s.DeletePolicy(ctx, pol.ARN); !errors.As(err, &de) {
		t.Errorf("DeletePolicy attached = %v", err)
	}
	if err := s.DeleteRole(ctx, "fn"); !errors.As(err, &de) || de.Dependents != "attached policies" {
		t.Errorf("DeleteRole with attachments = %v", err)
	}
	for _, arn := range []string{pol.ARN, rw} {
		if err := s.DetachPolicy(ctx, RoleOwner, "fn", arn); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DetachPolicy(ctx, RoleOwner, "fn", rw); !errors.Is(err, ErrNotFound) {
		t.Errorf("detach twice = %v", err)
	}
	if err := s.DeleteRole(ctx, "fn"); !errors.As(err, &de) || de.Dependents != "policies" {
		t.Errorf("DeleteRole with inline policies = %v", err)
	}
	s.DeleteInlinePolicy(ctx, RoleOwner, "fn", "a")
	if err := s.DeleteRole(ctx, "fn"); err != nil {
		t.Fatal(err)
	}

	// Versions.
	v2, err := s.CreatePolicyVersion(ctx, pol.ARN, `{"v":2}`, true, 5, now.Add(time.Hour))
	if err != nil || v2.VersionID != "v2" {
		t.Fatalf("CreatePolicyVersion = %+v, %v", v2, err)
	}
	if v, _ := s.PolicyVersion(ctx, pol.ARN, ""); v.VersionID != "v2" || !v.IsDefault || v.Document != `{"v":2}` {
		t.Errorf("default version = %+v", v)
	}
	if v, _ := s.PolicyVersion(ctx, pol.ARN, "v1"); v.IsDefault || v.Document != `{"v":1}` {
		t.Errorf("v1 = %+v", v)
	}
	if _, err := s.PolicyVersion(ctx, pol.ARN, "v9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("v9 = %v", err)
	}
	if _, err := s.CreatePolicyVersion(ctx, pol.ARN, `{}`, false, 2, now); !errors.Is(err, ErrLimitExceeded) {
		t.Errorf("version over the limit = %v", err)
	}
	if err := s.DeletePolicy(ctx, pol.ARN); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Policy(ctx, pol.ARN); !errors.Is(err, ErrNotFound) {
		t.Errorf("Policy after delete = %v", err)
	}
}
