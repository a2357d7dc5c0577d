package iamapi_test

import (
	"encoding/xml"
	"net/url"
	"testing"
)

// TestMissingEntitiesAreNoSuchEntity checks the NoSuchEntity message of each
// call that names a user, role, policy, policy version or access key that
// does not exist.
func TestMissingEntitiesAreNoSuchEntity(t *testing.T) {
	w := newWorld(t)
	for _, setup := range []url.Values{
		{"Action": {"CreateRole"}, "RoleName": {"r"}, "AssumeRolePolicyDocument": {trustDoc}},
		{"Action": {"CreateUser"}, "UserName": {"u"}},
	} {
		if status, _, body := post(t, w, setup); status != 200 {
			t.Fatalf("%v: %d %s", setup, status, body)
		}
	}
	const (
		identityDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
		missingARN  = "arn:aws:iam::" + account + ":policy/nope"
		missingKey  = "AKIANOPENOPENOPENOPE"
	)
	tests := []struct {
		name    string
		form    url.Values
		message string
	}{
		{"GetRole", url.Values{"Action": {"GetRole"}, "RoleName": {"ghost"}}, "The role with name ghost cannot be found."},
		{"DeleteRole", url.Values{"Action": {"DeleteRole"}, "RoleName": {"ghost"}}, "The role with name ghost cannot be found."},
		{"DeleteUser", url.Values{"Action": {"DeleteUser"}, "UserName": {"ghost"}}, "The user with name ghost cannot be found."},
		{"UpdateAssumeRolePolicy", url.Values{"Action": {"UpdateAssumeRolePolicy"}, "RoleName": {"ghost"}, "PolicyDocument": {trustDoc}},
			"The role with name ghost cannot be found."},
		{"PutUserPolicy of missing user", url.Values{"Action": {"PutUserPolicy"}, "UserName": {"ghost"}, "PolicyName": {"p"},
			"PolicyDocument": {identityDoc}}, "The user with name ghost cannot be found."},
		{"ListRolePolicies of missing role", url.Values{"Action": {"ListRolePolicies"}, "RoleName": {"ghost"}},
			"The role with name ghost cannot be found."},
		{"ListAttachedUserPolicies of missing user", url.Values{"Action": {"ListAttachedUserPolicies"}, "UserName": {"ghost"}},
			"The user with name ghost cannot be found."},
		{"GetRolePolicy", url.Values{"Action": {"GetRolePolicy"}, "RoleName": {"r"}, "PolicyName": {"nope"}},
			"The role policy with name nope cannot be found."},
		{"DeleteUserPolicy", url.Values{"Action": {"DeleteUserPolicy"}, "UserName": {"u"}, "PolicyName": {"nope"}},
			"The user policy with name nope cannot be found."},
		{"AttachRolePolicy of missing customer policy", url.Values{"Action": {"AttachRolePolicy"}, "RoleName": {"r"}, "PolicyArn": {missingARN}},
			"Policy " + missingARN + " does not exist or is not attachable."},
		{"AttachUserPolicy of unknown AWS managed policy", url.Values{"Action": {"AttachUserPolicy"}, "UserName": {"u"},
			"PolicyArn": {"arn:aws:iam::aws:policy/Nope"}}, "Policy arn:aws:iam::aws:policy/Nope does not exist or is not attachable."},
		{"DetachRolePolicy not attached", url.Values{"Action": {"DetachRolePolicy"}, "RoleName": {"r"}, "PolicyArn": {rwARN}},
			"Policy " + rwARN + " was not found."},
		{"GetPolicy", url.Values{"Action": {"GetPolicy"}, "PolicyArn": {missingARN}}, "Policy " + missingARN + " was not found."},
		{"DeletePolicy", url.Values{"Action": {"DeletePolicy"}, "PolicyArn": {missingARN}}, "Policy " + missingARN + " was not found."},
		{"GetPolicyVersion of missing policy", url.Values{"Action": {"GetPolicyVersion"}, "PolicyArn": {missingARN}, "VersionId": {"v1"}},
			"Policy " + missingARN + " version v1 does not exist or is not attachable."},
		{"GetPolicyVersion of AWS managed policy", url.Values{"Action": {"GetPolicyVersion"}, "PolicyArn": {rwARN}, "VersionId": {"v99"}},
			"Policy " + rwARN + " version v99 does not exist or is not attachable."},
		{"CreatePolicyVersion", url.Values{"Action": {"CreatePolicyVersion"}, "PolicyArn": {missingARN}, "PolicyDocument": {identityDoc}},
			"Policy " + missingARN + " was not found."},
		{"DeleteAccessKey", url.Values{"Action": {"DeleteAccessKey"}, "UserName": {"u"}, "AccessKeyId": {missingKey}},
			"The Access Key with id " + missingKey + " cannot be found."},
		{"UpdateAccessKey", url.Values{"Action": {"UpdateAccessKey"}, "UserName": {"u"}, "AccessKeyId": {missingKey}, "Status": {"Inactive"}},
			"The Access Key with id " + missingKey + " cannot be found."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := post(t, w, tt.form)
			var doc struct {
				Error struct{ Code, Message string }
			}
			if err := xml.Unmarshal([]byte(body), &doc); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if status != 404 || doc.Error.Code != "NoSuchEntity" || doc.Error.Message != tt.message {
				t.Errorf("got %d %+v, want 404 NoSuchEntity %q", status, doc.Error, tt.message)
			}
		})
	}
}
