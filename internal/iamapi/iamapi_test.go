package iamapi_test

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/iamapi"
	"tarn.dev/tarn/internal/store"
)

const (
	account  = "123456789012"
	rootKey  = "AKIAROOTROOTROOTROOT"
	rootARN  = "arn:aws:iam::" + account + ":root"
	trustDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	rwARN    = "arn:aws:iam::aws:policy/AmazonElasticFileSystemClientReadWriteAccess"
	vpcARN   = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
)

type keyIDKey struct{}

// world is the IAM API on a fresh store behind a shim that takes the
// caller's access key id from the SigV4 Authorization header without
// checking the signature (the server front does that).
type world struct {
	t     *testing.T
	store *store.Store
	auth  *iamapi.Authorizer
	url   string
}

var credentialRE = regexp.MustCompile(`Credential=([^/]+)/`)

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "tarn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.PutAccessKey(ctx, store.AccessKey{ID: rootKey, Secret: "rootsecret", Principal: rootARN, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	auth := iamapi.NewAuthorizer(st)
	api := iamapi.New(iamapi.Config{Store: st, AccountID: account, Authorizer: auth,
		Caller: func(ctx context.Context) (string, bool) {
			id, ok := ctx.Value(keyIDKey{}).(string)
			return id, ok
		}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m := credentialRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
			r = r.WithContext(context.WithValue(r.Context(), keyIDKey{}, m[1]))
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &world{t: t, store: st, auth: auth, url: srv.URL}
}

func (w *world) client(keyID, secret string) *iam.Client {
	return iam.New(iam.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(w.url),
		Credentials:      credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		RetryMaxAttempts: 1,
	})
}

func (w *world) root() *iam.Client { return w.client(rootKey, "rootsecret") }

// code returns the AWS error code of err, or "" when err is nil.
func code(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "not an API error: " + err.Error()
}

func decode(t *testing.T, doc *string) string {
	t.Helper()
	s, err := url.QueryUnescape(aws.ToString(doc))
	if err != nil {
		t.Fatalf("document %q is not URL-encoded: %v", aws.ToString(doc), err)
	}
	return s
}

func TestUsersAndAccessKeys(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	c := w.root()

	out, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob"), Path: aws.String("/team/")})
	if err != nil {
		t.Fatal(err)
	}
	if u := out.User; aws.ToString(u.Arn) != "arn:aws:iam::123456789012:user/team/bob" || aws.ToString(u.Path) != "/team/" ||
		len(aws.ToString(u.UserId)) != 21 || !strings.HasPrefix(aws.ToString(u.UserId), "AIDA") || u.CreateDate == nil {
		t.Errorf("CreateUser = %+v", u)
	}
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("BOB")})
	var exists *types.EntityAlreadyExistsException
	if !errors.As(err, &exists) || !strings.Contains(err.Error(), "User with name BOB already exists.") {
		t.Errorf("CreateUser(BOB) = %v, want EntityAlreadyExists", err)
	}
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bad name")}); code(err) != "ValidationError" ||
		!strings.Contains(err.Error(), "at 'userName' failed to satisfy constraint") {
		t.Errorf("CreateUser(bad name) = %v, want ValidationError", err)
	}
	got, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")})
	if err != nil || aws.ToString(got.User.UserName) != "bob" || !got.User.CreateDate.Equal(*out.User.CreateDate) {
		t.Errorf("GetUser = %+v, %v", got, err)
	}
	me, err := c.GetUser(ctx, &iam.GetUserInput{})
	if err != nil || aws.ToString(me.User.Arn) != rootARN || aws.ToString(me.User.UserId) != account {
		t.Errorf("GetUser() as root = %+v, %v", me, err)
	}
	c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")})
	list, err := c.ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil || len(list.Users) != 2 || aws.ToString(list.Users[0].UserName) != "alice" || list.IsTruncated {
		t.Errorf("ListUsers = %+v, %v", list, err)
	}
	list, _ = c.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/team/")})
	if len(list.Users) != 1 {
		t.Errorf("ListUsers(/team/) = %d users, want 1", len(list.Users))
	}

	k1, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
	if err != nil {
		t.Fatal(err)
	}
	if k := k1.AccessKey; len(aws.ToString(k.AccessKeyId)) != 20 || len(aws.ToString(k.SecretAccessKey)) != 40 ||
		k.Status != types.StatusTypeActive || aws.ToString(k.UserName) != "bob" {
		t.Errorf("CreateAccessKey = %+v", k)
	}
	if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	var limit *types.LimitExceededException
	if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")}); !errors.As(err, &limit) {
		t.Errorf("third access key = %v, want LimitExceeded", err)
	}
	if _, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: k1.AccessKey.AccessKeyId,
		Status: types.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	keys, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("bob")})
	if err != nil || len(keys.AccessKeyMetadata) != 2 {
		t.Fatalf("ListAccessKeys = %+v, %v", keys, err)
	}
	for _, k := range keys.AccessKeyMetadata {
		want := types.StatusTypeActive
		if aws.ToString(k.AccessKeyId) == aws.ToString(k1.AccessKey.AccessKeyId) {
			want = types.StatusTypeInactive
		}
		if k.Status != want {
			t.Errorf("key %s status %s, want %s", aws.ToString(k.AccessKeyId), k.Status, want)
		}
	}
	// Alice cannot touch bob's keys, nor anyone the root key.
	var nse *types.NoSuchEntityException
	if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k1.AccessKey.AccessKeyId}); !errors.As(err, &nse) {
		t.Errorf("DeleteAccessKey of another user's key = %v, want NoSuchEntity", err)
	}
	if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(rootKey)}); code(err) != "DeleteConflict" {
		t.Errorf("DeleteAccessKey(root key) = %v, want DeleteConflict", err)
	}
	var conflict *types.DeleteConflictException
	if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")}); !errors.As(err, &conflict) ||
		!strings.Contains(err.Error(), "must delete access keys first") {
		t.Errorf("DeleteUser with keys = %v, want DeleteConflict", err)
	}
	for _, k := range keys.AccessKeyMetadata {
		if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: k.AccessKeyId}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")}); !errors.As(err, &nse) ||
		!strings.Contains(err.Error(), "The user with name bob cannot be found.") {
		t.Errorf("GetUser after delete = %v, want NoSuchEntity", err)
	}
}

func TestRolesAndTheirPolicies(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	c := w.root()

	cr, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("fn-role"), AssumeRolePolicyDocument: aws.String(trustDoc),
		Description: aws.String("runs functions"), Path: aws.String("/service-role/")})
	if err != nil {
		t.Fatal(err)
	}
	if r := cr.Role; aws.ToString(r.Arn) != "arn:aws:iam::123456789012:role/service-role/fn-role" || aws.ToInt32(r.MaxSessionDuration) != 3600 ||
		!strings.HasPrefix(aws.ToString(r.RoleId), "AROA") || decode(t, r.AssumeRolePolicyDocument) != trustDoc {
		t.Errorf("CreateRole = %+v", r)
	}
	var exists *types.EntityAlreadyExistsException
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("FN-ROLE"), AssumeRolePolicyDocument: aws.String(trustDoc)}); !errors.As(err, &exists) {
		t.Errorf("CreateRole again = %v", err)
	}
	var malformed *types.MalformedPolicyDocumentException
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r2"),
		AssumeRolePolicyDocument: aws.String("{\"Statement\": [\n  {\"Effect\": \"Permit\", \"Principal\": \"*\", \"Action\": \"sts:AssumeRole\"}]}")})
	if !errors.As(err, &malformed) || !strings.Contains(err.Error(), "line 2, column 14") {
		t.Errorf("CreateRole with a bad Effect = %v, want MalformedPolicyDocument at line 2, column 14", err)
	}
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r2"), AssumeRolePolicyDocument: aws.String(trustDoc),
		MaxSessionDuration: aws.Int32(60)})
	if code(err) != "ValidationError" {
		t.Errorf("MaxSessionDuration 60 = %v, want ValidationError", err)
	}

	// An inline policy whose document needs escaping both ways.
	inline := `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "elasticfilesystem:Client*", "Resource": "*",
  "Condition": {"StringLike": {"aws:username": "a+b & c%d"}}}}`
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("fn-role"), PolicyName: aws.String("efs"),
		PolicyDocument: aws.String(inline)}); err != nil {
		t.Fatal(err)
	}
	gp, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("fn-role"), PolicyName: aws.String("efs")})
	if err != nil || decode(t, gp.PolicyDocument) != inline || aws.ToString(gp.RoleName) != "fn-role" {
		t.Errorf("GetRolePolicy = %+v, %v", gp, err)
	}
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("fn-role"), PolicyName: aws.String("bad"),
		PolicyDocument: aws.String(`{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": "*"}}`)}); !errors.As(err, &malformed) {
		t.Errorf("identity policy with a Principal = %v, want MalformedPolicyDocument", err)
	}
	var nse *types.NoSuchEntityException
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("nope"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(inline)}); !errors.As(err, &nse) {
		t.Errorf("PutRolePolicy on a missing role = %v", err)
	}
	lp, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("fn-role")})
	if err != nil || len(lp.PolicyNames) != 1 || lp.PolicyNames[0] != "efs" {
		t.Errorf("ListRolePolicies = %+v, %v", lp, err)
	}

	for _, arn := range []string{rwARN, vpcARN} {
		if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("fn-role"), PolicyArn: aws.String(arn)}); err != nil {
			t.Fatalf("AttachRolePolicy(%s) = %v", arn, err)
		}
	}
	if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("fn-role"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")}); !errors.As(err, &nse) {
		t.Errorf("attach an unknown AWS policy = %v, want NoSuchEntity", err)
	}
	la, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("fn-role")})
	if err != nil || len(la.AttachedPolicies) != 2 || aws.ToString(la.AttachedPolicies[0].PolicyName) != "AmazonElasticFileSystemClientReadWriteAccess" ||
		aws.ToString(la.AttachedPolicies[1].PolicyName) != "AWSLambdaVPCAccessExecutionRole" {
		t.Errorf("ListAttachedRolePolicies = %+v, %v", la, err)
	}
	var conflict *types.DeleteConflictException
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("fn-role")}); !errors.As(err, &conflict) ||
		!strings.Contains(err.Error(), "must detach all policies first") {
		t.Errorf("DeleteRole with attachments = %v", err)
	}
	for _, arn := range []string{rwARN, vpcARN} {
		if _, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("fn-role"), PolicyArn: aws.String(arn)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("fn-role"), PolicyArn: aws.String(rwARN)}); !errors.As(err, &nse) {
		t.Errorf("detach twice = %v, want NoSuchEntity", err)
	}
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("fn-role")}); !errors.As(err, &conflict) ||
		!strings.Contains(err.Error(), "must delete policies first") {
		t.Errorf("DeleteRole with inline policies = %v", err)
	}
	if _, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("fn-role"), PolicyName: aws.String("efs")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("fn-role"), PolicyName: aws.String("efs")}); !errors.As(err, &nse) ||
		!strings.Contains(err.Error(), "The role policy with name efs cannot be found.") {
		t.Errorf("GetRolePolicy after delete = %v", err)
	}
	newTrust := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}}`
	if _, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("fn-role"), PolicyDocument: aws.String(newTrust)}); err != nil {
		t.Fatal(err)
	}
	if r, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("fn-role")}); err != nil || decode(t, r.Role.AssumeRolePolicyDocument) != newTrust ||
		aws.ToString(r.Role.Description) != "runs functions" {
		t.Errorf("GetRole = %+v, %v", r, err)
	}
	roles, err := c.ListRoles(ctx, &iam.ListRolesInput{})
	if err != nil || len(roles.Roles) != 1 {
		t.Errorf("ListRoles = %+v, %v", roles, err)
	}
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("fn-role")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("fn-role")}); !errors.As(err, &nse) {
		t.Errorf("GetRole after delete = %v", err)
	}
}

func TestManagedPolicies(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	c := w.root()

	var names []string
	pager := iam.NewListPoliciesPaginator(c, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws, MaxItems: aws.Int32(2)})
	pages := 0
	for pager.HasMorePages() {
		out, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, p := range out.Policies {
			names = append(names, aws.ToString(p.PolicyName))
		}
	}
	if pages != 3 || len(names) != 5 {
		t.Errorf("ListPolicies(AWS) in pages of 2 = %d pages, %v", pages, names)
	}
	gp, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(vpcARN)})
	if err != nil || aws.ToString(gp.Policy.DefaultVersionId) != "v3" || aws.ToString(gp.Policy.Path) != "/service-role/" {
		t.Errorf("GetPolicy(VPC) = %+v, %v", gp, err)
	}
	gv, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(rwARN), VersionId: aws.String("v1")})
	if err != nil || !strings.Contains(decode(t, gv.PolicyVersion.Document), `"elasticfilesystem:ClientWrite"`) || !gv.PolicyVersion.IsDefaultVersion {
		t.Errorf("GetPolicyVersion(RW) = %+v, %v", gv, err)
	}

	doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"elasticfilesystem:Describe*","Resource":"*"}}`
	cp, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("efs-read"), PolicyDocument: aws.String(doc),
		Description: aws.String("read EFS")})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(cp.Policy.Arn)
	if arn != "arn:aws:iam::123456789012:policy/efs-read" || aws.ToString(cp.Policy.DefaultVersionId) != "v1" || !cp.Policy.IsAttachable {
		t.Errorf("CreatePolicy = %+v", cp.Policy)
	}
	var exists *types.EntityAlreadyExistsException
	if _, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("efs-read"), PolicyDocument: aws.String(doc)}); !errors.As(err, &exists) {
		t.Errorf("CreatePolicy again = %v", err)
	}
	var malformed *types.MalformedPolicyDocumentException
	if _, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("x"), PolicyDocument: aws.String(`{"Statement":`)}); !errors.As(err, &malformed) {
		t.Errorf("CreatePolicy with broken JSON = %v", err)
	}
	nv, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), SetAsDefault: true,
		PolicyDocument: aws.String(strings.Replace(doc, "Describe*", "*", 1))})
	if err != nil || aws.ToString(nv.PolicyVersion.VersionId) != "v2" || !nv.PolicyVersion.IsDefaultVersion {
		t.Errorf("CreatePolicyVersion = %+v, %v", nv, err)
	}
	c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")})
	if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	local, err := c.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal, OnlyAttached: true})
	if err != nil || len(local.Policies) != 1 || aws.ToInt32(local.Policies[0].AttachmentCount) != 1 {
		t.Errorf("ListPolicies(Local, OnlyAttached) = %+v, %v", local, err)
	}
	var conflict *types.DeleteConflictException
	if _, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)}); !errors.As(err, &conflict) {
		t.Errorf("DeletePolicy attached = %v", err)
	}
	if _, err := c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	var nse *types.NoSuchEntityException
	if _, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)}); !errors.As(err, &nse) {
		t.Errorf("GetPolicy after delete = %v", err)
	}
}

func TestUserInlinePoliciesAndLimits(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	c := w.root()
	c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")})
	doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	big := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("x", 2048) + `"}}`
	var limit *types.LimitExceededException
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("big"), PolicyDocument: aws.String(big)}); !errors.As(err, &limit) {
		t.Errorf("PutUserPolicy over 2048 bytes = %v, want LimitExceeded", err)
	}
	got, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("p")})
	if err != nil || decode(t, got.PolicyDocument) != doc {
		t.Errorf("GetUserPolicy = %+v, %v", got, err)
	}
	lp, err := c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("bob")})
	if err != nil || len(lp.PolicyNames) != 1 {
		t.Errorf("ListUserPolicies = %+v, %v", lp, err)
	}
	if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(rwARN)}); err != nil {
		t.Fatal(err)
	}
	la, err := c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("bob")})
	if err != nil || len(la.AttachedPolicies) != 1 || aws.ToString(la.AttachedPolicies[0].PolicyArn) != rwARN {
		t.Errorf("ListAttachedUserPolicies = %+v, %v", la, err)
	}
	var conflict *types.DeleteConflictException
	if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")}); !errors.As(err, &conflict) {
		t.Errorf("DeleteUser with policies = %v", err)
	}
	if _, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("p")}); err != nil {
		t.Fatal(err)
	}
	var nse *types.NoSuchEntityException
	if _, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("p")}); !errors.As(err, &nse) {
		t.Errorf("DeleteUserPolicy twice = %v", err)
	}
}

// TestAuthorizer checks decisions for control-API calls: a user's key may
// do what its policies allow, changes through the IAM API take effect at
// once, the root key may do everything.
func TestAuthorizer(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	c := w.root()
	c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")})
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
	if err != nil {
		t.Fatal(err)
	}
	bobKey := aws.ToString(key.AccessKey.AccessKeyId)
	const fs = "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-0123456789abcdef0"
	authorize := func(keyID, action string) error { return w.auth.Authorize(ctx, keyID, action, fs, nil) }
	denied := func(err error) bool {
		var ae *awsapi.Error
		return errors.As(err, &ae) && ae.Status == http.StatusForbidden && ae.Code == "AccessDeniedException"
	}

	if err := authorize(rootKey, "elasticfilesystem:DeleteFileSystem"); err != nil {
		t.Errorf("root key: %v", err)
	}
	err = authorize(bobKey, "elasticfilesystem:CreateFileSystem")
	want := "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: elasticfilesystem:CreateFileSystem on resource: " + fs +
		" because no identity-based policy allows the elasticfilesystem:CreateFileSystem action"
	if !denied(err) || err.(*awsapi.Error).Message != want {
		t.Errorf("bob without policies: %v, want AccessDeniedException %q", err, want)
	}
	// The cached "no policies" must not survive a change.
	c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("efs"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"elasticfilesystem:*","Resource":"*"},
		{"Sid":"KeepData","Effect":"Deny","Action":"elasticfilesystem:Delete*","Resource":"*"}]}`)})
	if err := authorize(bobKey, "elasticfilesystem:CreateFileSystem"); err != nil {
		t.Errorf("bob after PutUserPolicy: %v", err)
	}
	err = authorize(bobKey, "elasticfilesystem:DeleteFileSystem")
	if !denied(err) || !strings.Contains(err.Error(), "with an explicit deny in an identity-based policy") {
		t.Errorf("explicit deny: %v", err)
	}
	if err := authorize(bobKey, "lambda:CreateFunction"); !denied(err) {
		t.Errorf("other service: %v", err)
	}
	// Conditions see aws:username and the caller's context.
	c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("tls"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*",
		"Condition":{"Bool":{"aws:SecureTransport":"false"},"StringEquals":{"aws:username":"bob"}}}}`)})
	if err := w.auth.Authorize(ctx, bobKey, "elasticfilesystem:CreateFileSystem", fs, map[string][]string{"aws:SecureTransport": {"false"}}); !denied(err) {
		t.Errorf("insecure transport: %v", err)
	}
	if err := w.auth.Authorize(ctx, bobKey, "elasticfilesystem:CreateFileSystem", fs, map[string][]string{"aws:SecureTransport": {"true"}}); err != nil {
		t.Errorf("secure transport: %v", err)
	}
	// Managed policies count too.
	c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("efs")})
	c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(rwARN)})
	if err := authorize(bobKey, "elasticfilesystem:ClientWrite"); err != nil {
		t.Errorf("ClientWrite through the managed policy: %v", err)
	}
	if err := authorize(bobKey, "elasticfilesystem:ClientRootAccess"); !denied(err) {
		t.Errorf("ClientRootAccess through the read-write policy: %v", err)
	}
	// Bob's key cannot use IAM, and IAM says so in its own words.
	bob := w.client(bobKey, aws.ToString(key.AccessKey.SecretAccessKey))
	if _, err := bob.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("mallory")}); code(err) != "AccessDenied" ||
		!strings.Contains(err.Error(), "is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::123456789012:user/mallory") {
		t.Errorf("bob CreateUser = %v, want AccessDenied", err)
	}
	// A deactivated key is refused.
	c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String(bobKey), Status: types.StatusTypeInactive})
	var ae *awsapi.Error
	if err := authorize(bobKey, "elasticfilesystem:ClientWrite"); !errors.As(err, &ae) || ae.Code != "InvalidClientTokenId" {
		t.Errorf("inactive key: %v, want InvalidClientTokenId", err)
	}
	if err := authorize("AKIANOSUCHKEY0000000", "elasticfilesystem:ClientWrite"); !errors.As(err, &ae) || ae.Code != "InvalidClientTokenId" {
		t.Errorf("unknown key: %v, want InvalidClientTokenId", err)
	}
}

func TestIdentityPoliciesOfRoleSessions(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	c := w.root()
	c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("fn-role"), AssumeRolePolicyDocument: aws.String(trustDoc), Path: aws.String("/service-role/")})
	c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("fn-role"), PolicyArn: aws.String(rwARN)})
	for _, principal := range []string{"arn:aws:iam::123456789012:role/service-role/fn-role", "arn:aws:sts::123456789012:assumed-role/fn-role/my-function"} {
		ps, err := w.auth.IdentityPolicies(ctx, principal)
		if err != nil || len(ps) != 1 || ps[0].Name != rwARN {
			t.Errorf("IdentityPolicies(%s) = %v, %v", principal, ps, err)
		}
	}
	if _, err := w.auth.IdentityPolicies(ctx, "arn:aws:iam::123456789012:role/gone"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("IdentityPolicies of a missing role = %v, want ErrNotFound", err)
	}
}

// post sends a raw query request and returns the status and body.
func post(t *testing.T, w *world, form url.Values) (int, http.Header, string) {
	t.Helper()
	resp, err := http.PostForm(w.url, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestErrorDocuments(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name      string
		form      url.Values
		status    int
		code, typ string
		message   string
	}{
		{"no such user", url.Values{"Action": {"GetUser"}, "Version": {"2010-05-08"}, "UserName": {"ghost"}},
			404, "NoSuchEntity", "Sender", "The user with name ghost cannot be found."},
		{"unknown action", url.Values{"Action": {"CreateGroup"}, "Version": {"2010-05-08"}},
			400, "InvalidAction", "Sender", "Could not find operation CreateGroup for version 2010-05-08"},
		{"missing member", url.Values{"Action": {"CreateRole"}, "Version": {"2010-05-08"}, "RoleName": {"r"}},
			400, "ValidationError", "Sender", "1 validation error detected: Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null"},
		{"malformed policy", url.Values{"Action": {"CreateRole"}, "Version": {"2010-05-08"}, "RoleName": {"r"},
			"AssumeRolePolicyDocument": {"{\n\"Statement\": [}"}},
			400, "MalformedPolicyDocument", "Sender", "Syntax errors in policy: line 2, column 15: JSON syntax error"},
		{"no caller for GetUser", url.Values{"Action": {"GetUser"}, "Version": {"2010-05-08"}},
			400, "ValidationError", "Sender", "Must specify userName when calling with non-User credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := post(t, w, tt.form)
			var doc struct {
				XMLName   xml.Name `xml:"ErrorResponse"`
				Xmlns     string   `xml:"xmlns,attr"`
				Error     struct{ Type, Code, Message string }
				RequestID string `xml:"RequestId"`
			}
			if err := xml.Unmarshal([]byte(body), &doc); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if status != tt.status || doc.Error.Code != tt.code || doc.Error.Type != tt.typ || !strings.HasPrefix(doc.Error.Message, tt.message) {
				t.Errorf("got %d %+v, want %d %s %s %q", status, doc.Error, tt.status, tt.typ, tt.code, tt.message)
			}
			if doc.Xmlns != iamapi.Namespace || doc.RequestID == "" || header.Get("x-amzn-RequestId") != doc.RequestID {
				t.Errorf("namespace %q, request id %q (header %q)", doc.Xmlns, doc.RequestID, header.Get("x-amzn-RequestId"))
			}
			if header.Get("Content-Type") != "text/xml" {
				t.Errorf("Content-Type %q", header.Get("Content-Type"))
			}
		})
	}
}

func TestResponseDocument(t *testing.T) {
	w := newWorld(t)
	status, _, body := post(t, w, url.Values{"Action": {"CreateRole"}, "Version": {"2010-05-08"}, "RoleName": {"r"},
		"AssumeRolePolicyDocument": {trustDoc}})
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	for _, want := range []string{
		`<CreateRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateRoleResult><Role><Path>/</Path><RoleName>r</RoleName>`,
		`<AssumeRolePolicyDocument>%7B%22Version%22%3A%222012-10-17%22%2C`,
		`</Role></CreateRoleResult><ResponseMetadata><RequestId>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("response lacks %s:\n%s", want, body)
		}
	}
	_, _, body = post(t, w, url.Values{"Action": {"ListUsers"}, "Version": {"2010-05-08"}})
	if !strings.Contains(body, "<ListUsersResult><Users></Users><IsTruncated>false</IsTruncated></ListUsersResult>") {
		t.Errorf("empty ListUsers: %s", body)
	}
	_, _, body = post(t, w, url.Values{"Action": {"DeleteRole"}, "Version": {"2010-05-08"}, "RoleName": {"r"}})
	if !strings.Contains(body, "<DeleteRoleResponse") || strings.Contains(body, "DeleteRoleResult") {
		t.Errorf("DeleteRole response: %s", body)
	}
}
