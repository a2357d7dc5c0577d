package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestIAMMissingRecordsAreNotFound(t *testing.T) {
	ctx := context.Background()
	s := openIAMTest(t)
	now := time.Unix(1700000000, 0).UTC()
	if err := s.CreateRole(ctx, Role{Name: "fn", ID: "AROAFN", Path: "/", ARN: acct + "role/fn", AssumeRolePolicy: `{}`,
		MaxSessionDuration: 3600, Created: now}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"Role", func() error { _, err := s.Role(ctx, "nope"); return err }},
		{"RoleByARN", func() error { _, err := s.RoleByARN(ctx, acct+"role/nope"); return err }},
		{"UserByARN", func() error { _, err := s.UserByARN(ctx, acct+"user/nope"); return err }},
		{"InlinePolicy", func() error { _, err := s.InlinePolicy(ctx, RoleOwner, "fn", "nope"); return err }},
		{"DeleteInlinePolicy", func() error { return s.DeleteInlinePolicy(ctx, RoleOwner, "fn", "nope") }},
		{"PutInlinePolicy of missing user", func() error { return s.PutInlinePolicy(ctx, UserOwner, "nope", "p", `{}`, 0) }},
		{"AttachPolicy to missing user", func() error {
			return s.AttachPolicy(ctx, UserOwner, "nope", "arn:aws:iam::aws:policy/Other", 0)
		}},
		{"DeleteRole", func() error { return s.DeleteRole(ctx, "nope") }},
		{"CreatePolicyVersion", func() error {
			_, err := s.CreatePolicyVersion(ctx, acct+"policy/nope", `{}`, false, 0, now)
			return err
		}},
		{"DeletePolicy", func() error { return s.DeletePolicy(ctx, acct+"policy/nope") }},
		{"SetAccessKeyStatus", func() error { return s.SetAccessKeyStatus(ctx, "AKIANOPE", "Inactive") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, ErrNotFound) {
				t.Errorf("%s = %v, want ErrNotFound", tt.name, err)
			}
		})
	}
}

func TestIAMDuplicateKeysAreExistsError(t *testing.T) {
	ctx := context.Background()
	s := openIAMTest(t)
	now := time.Unix(1700000000, 0).UTC()
	role := Role{Name: "fn", ID: "AROAFN", Path: "/", ARN: acct + "role/fn", AssumeRolePolicy: `{}`, MaxSessionDuration: 3600, Created: now}
	key := AccessKey{ID: "AKIA1", Secret: "s", Principal: acct + "user/bob", Created: now}
	tests := []struct {
		name, id string
		call     func() error
	}{
		{"CreateRole", "FN", func() error {
			r := role
			r.Name, r.ARN = "FN", acct+"role/FN"
			return s.CreateRole(ctx, r)
		}},
		{"CreateAccessKey", "AKIA1", func() error {
			k := key
			k.Principal = acct + "user/alice"
			return s.CreateAccessKey(ctx, k, 0)
		}},
	}
	if err := s.CreateRole(ctx, role); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccessKey(ctx, key, 0); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ee *ExistsError
			if err := tt.call(); !errors.As(err, &ee) || ee.ID != tt.id {
				t.Errorf("%s = %v, want *ExistsError{%s}", tt.name, err, tt.id)
			}
		})
	}
}
