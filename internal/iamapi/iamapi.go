// Package iamapi serves a subset of the AWS IAM API (query protocol, version
// 2010-05-08, as the AWS CLI and SDKs speak it) over Tarn's control-plane
// store: users and their access keys, roles with trust policies, inline
// policies of users and roles, customer managed policies with versions, the
// AWS managed policies people attach for Lambda and EFS, and attachments.
//
// Requests are POST forms (Action=…&Version=2010-05-08, also accepted as a
// GET query); responses are XML documents in the IAM namespace and errors
// are <ErrorResponse> documents with the AWS error code and HTTP status.
// Policy documents are checked with package iam when they are put, and a
// malformed one is refused with the line and column of the problem. Policy
// documents in responses are URL-encoded, as IAM returns them.
//
// The package also provides the Authorizer the server front uses to decide
// whether a caller's access key may perform an action on any control API.
package iamapi

import (
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/iam"
	"tarn.dev/tarn/internal/store"
)

// Namespace is the XML namespace of IAM responses.
const Namespace = "https://iam.amazonaws.com/doc/2010-05-08/"

// APIVersion is the IAM API version served.
const APIVersion = "2010-05-08"

// IAM quotas (the AWS defaults).
const (
	MaxAccessKeysPerUser     = 2
	MaxPoliciesPerRole       = 10
	MaxPoliciesPerUser       = 10
	MaxRoleInlinePolicyBytes = 10240
	MaxUserInlinePolicyBytes = 2048
	MaxManagedPolicyChars    = 6144
	MaxPolicyVersions        = 5
	maxBody                  = 1 << 20
)

// Config configures the API. The zero value of each optional field means
// its default.
type Config struct {
	Store     *store.Store
	AccountID string
	Log       *slog.Logger     // nil: slog.Default()
	Now       func() time.Time // nil: time.Now
	// Authorizer, if set, is told about every change (its caches are
	// invalidated) and, together with Caller, authorizes IAM calls.
	Authorizer *Authorizer
	// Caller returns the access key id that signed the request in ctx. With
	// a nil Caller, or when it reports no caller, IAM calls are not
	// authorized (and calls that default to the caller's own user need an
	// explicit UserName).
	Caller func(ctx context.Context) (accessKeyID string, ok bool)
}

// API is the IAM API handler.
type API struct {
	cfg     Config
	actions map[string]action
}

type action struct {
	handle func(ctx context.Context, p params) (any, error)
	write  bool // changes state: invalidate the authorizer's caches
}

// New returns the IAM API handler.
func New(cfg Config) http.Handler {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &API{cfg: cfg}
	a.actions = map[string]action{
		"CreateUser":               {a.createUser, true},
		"GetUser":                  {a.getUser, false},
		"DeleteUser":               {a.deleteUser, true},
		"ListUsers":                {a.listUsers, false},
		"CreateAccessKey":          {a.createAccessKey, true},
		"ListAccessKeys":           {a.listAccessKeys, false},
		"DeleteAccessKey":          {a.deleteAccessKey, true},
		"UpdateAccessKey":          {a.updateAccessKey, true},
		"CreateRole":               {a.createRole, true},
		"GetRole":                  {a.getRole, false},
		"DeleteRole":               {a.deleteRole, true},
		"ListRoles":                {a.listRoles, false},
		"UpdateAssumeRolePolicy":   {a.updateAssumeRolePolicy, true},
		"PutRolePolicy":            {a.putInline(store.RoleOwner), true},
		"GetRolePolicy":            {a.getInline(store.RoleOwner), false},
		"DeleteRolePolicy":         {a.deleteInline(store.RoleOwner), true},
		"ListRolePolicies":         {a.listInline(store.RoleOwner), false},
		"AttachRolePolicy":         {a.attach(store.RoleOwner), true},
		"DetachRolePolicy":         {a.detach(store.RoleOwner), true},
		"ListAttachedRolePolicies": {a.listAttached(store.RoleOwner), false},
		"PutUserPolicy":            {a.putInline(store.UserOwner), true},
		"GetUserPolicy":            {a.getInline(store.UserOwner), false},
		"DeleteUserPolicy":         {a.deleteInline(store.UserOwner), true},
		"ListUserPolicies":         {a.listInline(store.UserOwner), false},
		"AttachUserPolicy":         {a.attach(store.UserOwner), true},
		"DetachUserPolicy":         {a.detach(store.UserOwner), true},
		"ListAttachedUserPolicies": {a.listAttached(store.UserOwner), false},
		"CreatePolicy":             {a.createPolicy, true},
		"GetPolicy":                {a.getPolicy, false},
		"DeletePolicy":             {a.deletePolicy, true},
		"ListPolicies":             {a.listPolicies, false},
		"GetPolicyVersion":         {a.getPolicyVersion, false},
		"CreatePolicyVersion":      {a.createPolicyVersion, true},
	}
	return a
}

// ServeHTTP serves one IAM API request.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	reqID := awsapi.RequestID(ctx)
	if reqID == "" {
		reqID = uuid.NewString()
		w.Header().Set("x-amzn-RequestId", reqID)
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		writeError(w, reqID, awsapi.Errorf(http.StatusMethodNotAllowed, "InvalidAction", "IAM takes POST or GET requests, not %s", r.Method))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		writeError(w, reqID, awsapi.Errorf(http.StatusBadRequest, "MalformedQueryString", "cannot parse the request: %v", err))
		return
	}
	p := params{r.Form}
	name := p.get("Action")
	act, ok := a.actions[name]
	if !ok {
		writeError(w, reqID, awsapi.Errorf(http.StatusBadRequest, "InvalidAction",
			"Could not find operation %s for version %s", name, APIVersion))
		return
	}
	if v := p.get("Version"); v != "" && v != APIVersion {
		writeError(w, reqID, awsapi.Errorf(http.StatusBadRequest, "InvalidAction",
			"Could not find operation %s for version %s", name, v))
		return
	}
	if err := a.authorize(ctx, name, p); err != nil {
		writeError(w, reqID, err)
		return
	}
	result, err := act.handle(ctx, p)
	if act.write && a.cfg.Authorizer != nil {
		// Also after a failure: a partial change is still a change.
		a.cfg.Authorizer.Invalidate()
	}
	if err != nil {
		var ae *awsapi.Error
		if !errors.As(err, &ae) {
			a.cfg.Log.Error("iam api", "action", name, "request_id", reqID, "err", err)
		}
		writeError(w, reqID, err)
		return
	}
	writeResult(w, name, reqID, result)
}

// authorize checks the caller's permission for iam:<name>.
func (a *API) authorize(ctx context.Context, name string, p params) error {
	if a.cfg.Authorizer == nil || a.cfg.Caller == nil {
		return nil
	}
	key, ok := a.cfg.Caller(ctx)
	if !ok {
		return nil
	}
	err := a.cfg.Authorizer.Authorize(ctx, key, "iam:"+name, a.resourceFor(p), nil)
	var ae *awsapi.Error
	if errors.As(err, &ae) && ae.Code == CodeAccessDenied {
		// IAM names the error AccessDenied where JSON services say
		// AccessDeniedException.
		c := *ae
		c.Code = "AccessDenied"
		return &c
	}
	return err
}

// resourceFor is the resource an IAM call acts on, for authorization.
// Entities are named without their path.
func (a *API) resourceFor(p params) string {
	switch {
	case p.get("PolicyArn") != "":
		return p.get("PolicyArn")
	case p.get("RoleName") != "":
		return a.arn("role/" + p.get("RoleName"))
	case p.get("UserName") != "":
		return a.arn("user/" + p.get("UserName"))
	case p.get("Action") == "CreatePolicy":
		return a.arn("policy/" + p.get("PolicyName"))
	}
	return "*"
}

func (a *API) arn(resource string) string { return "arn:aws:iam::" + a.cfg.AccountID + ":" + resource }

func (a *API) rootARN() string { return a.arn("root") }

// callerPrincipal returns the ARN of the principal that signed the request.
func (a *API) callerPrincipal(ctx context.Context) (string, bool, error) {
	if a.cfg.Caller == nil {
		return "", false, nil
	}
	key, ok := a.cfg.Caller(ctx)
	if !ok {
		return "", false, nil
	}
	k, err := a.cfg.Store.AccessKey(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return k.Principal, true, nil
}

// xmlResponse is the envelope of every successful response.
type xmlResponse struct {
	XMLName  xml.Name
	Xmlns    string  `xml:"xmlns,attr"`
	Result   *result `xml:",omitempty"`
	Metadata struct {
		RequestID string `xml:"RequestId"`
	} `xml:"ResponseMetadata"`
}

// result renders a result struct as the <XResult> element.
type result struct {
	name string
	body any
}

func (r *result) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	start.Name = xml.Name{Local: r.name}
	return e.EncodeElement(r.body, start)
}

func writeResult(w http.ResponseWriter, action, reqID string, body any) {
	resp := xmlResponse{XMLName: xml.Name{Local: action + "Response"}, Xmlns: Namespace}
	if body != nil {
		resp.Result = &result{name: action + "Result", body: body}
	}
	resp.Metadata.RequestID = reqID
	writeXML(w, http.StatusOK, resp)
}

type xmlError struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string
		Code    string
		Message string
	}
	RequestID string `xml:"RequestId"`
}

// WriteError renders err as an IAM query-protocol XML error, for callers
// outside this package (the control front's signature errors).
func WriteError(w http.ResponseWriter, reqID string, err error) { writeError(w, reqID, err) }

func writeError(w http.ResponseWriter, reqID string, err error) {
	var ae *awsapi.Error
	if !errors.As(err, &ae) {
		ae = &awsapi.Error{Status: http.StatusInternalServerError, Code: "ServiceFailure",
			Message: "internal error, request id " + reqID}
	}
	var e xmlError
	e.Xmlns = Namespace
	e.Error.Type = "Sender"
	if ae.Status >= 500 {
		e.Error.Type = "Receiver"
	}
	e.Error.Code, e.Error.Message, e.RequestID = ae.Code, ae.Message, reqID
	w.Header().Set("x-amzn-ErrorType", ae.Code)
	writeXML(w, ae.Status, e)
}

func writeXML(w http.ResponseWriter, status int, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`<ErrorResponse><Error><Type>Receiver</Type><Code>ServiceFailure</Code><Message>response encoding failed</Message></Error></ErrorResponse>`)
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(b)
}

// params are the members of a query request.
type params struct{ url.Values }

// Error codes of the IAM API.
const (
	CodeNoSuchEntity     = "NoSuchEntity"
	CodeEntityExists     = "EntityAlreadyExists"
	CodeMalformedPolicy  = "MalformedPolicyDocument"
	CodeValidation       = "ValidationError"
	CodeInvalidInput     = "InvalidInput"
	CodeDeleteConflict   = "DeleteConflict"
	CodeLimitExceeded    = "LimitExceeded"
	CodeAccessDenied     = "AccessDeniedException"
	CodeInvalidClientKey = "InvalidClientTokenId"
)

func noSuchEntity(format string, args ...any) error {
	return awsapi.Errorf(http.StatusNotFound, CodeNoSuchEntity, format, args...)
}

func exists(format string, args ...any) error {
	return awsapi.Errorf(http.StatusConflict, CodeEntityExists, format, args...)
}

func limitExceeded(format string, args ...any) error {
	return awsapi.Errorf(http.StatusConflict, CodeLimitExceeded, format, args...)
}

func deleteConflict(format string, args ...any) error {
	return awsapi.Errorf(http.StatusConflict, CodeDeleteConflict, format, args...)
}

// notFoundAs returns notFound in place of a store.ErrNotFound, and err
// otherwise (nil stays nil).
func notFoundAs(err, notFound error) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound
	}
	return err
}

// validation is IAM's ValidationError with the Coral wording.
func validation(value any, member, constraint string) error {
	e := awsapi.Validation(value, member, constraint)
	e.Code = CodeValidation
	return e
}

// member turns a parameter name into the member name Coral messages use.
func member(name string) string { return strings.ToLower(name[:1]) + name[1:] }

// constraint is a parameter's pattern and length bounds.
type constraint struct {
	pattern  *regexp.Regexp
	min, max int
}

var (
	namePattern       = regexp.MustCompile(`^[\w+=,.@-]+$`)
	pathPattern       = regexp.MustCompile(`^(/|/[\x21-\x7e]*/)$`)
	pathPrefixPattern = regexp.MustCompile(`^/[\x21-\x7e]*$`)
	docPattern        = regexp.MustCompile(`^[\x{0009}\x{000A}\x{000D}\x{0020}-\x{00FF}]+$`)
	arnPattern        = regexp.MustCompile(`^arn:[\w+=/,.@:-]+$`)
	keyIDPattern      = regexp.MustCompile(`^[\w]+$`)
	versionPattern    = regexp.MustCompile(`^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$`)
	userName          = constraint{namePattern, 1, 64}
	roleName          = constraint{namePattern, 1, 64}
	policyName        = constraint{namePattern, 1, 128}
	pathConstraint    = constraint{pathPattern, 1, 512}
	prefixConstraint  = constraint{pathPrefixPattern, 1, 512}
	docConstraint     = constraint{docPattern, 1, 131072}
	arnConstraint     = constraint{arnPattern, 20, 2048}
	keyIDConstraint   = constraint{keyIDPattern, 16, 128}
	versionID         = constraint{versionPattern, 0, 1000}
)

// required returns a parameter that must be present and satisfy c.
func (p params) required(name string, c constraint) (string, error) {
	if _, ok := p.Values[name]; !ok {
		return "", awsapi.Errorf(http.StatusBadRequest, CodeValidation,
			"1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member(name))
	}
	return p.optional(name, "", c)
}

// optional returns a parameter, or def when it is absent.
func (p params) optional(name, def string, c constraint) (string, error) {
	v, ok := p.Values[name]
	if !ok {
		return def, nil
	}
	s := v[0]
	switch {
	case len(s) < c.min:
		return "", validation(s, member(name), fmt.Sprintf("Member must have length greater than or equal to %d", c.min))
	case len(s) > c.max:
		return "", validation(s, member(name), fmt.Sprintf("Member must have length less than or equal to %d", c.max))
	case c.pattern != nil && s != "" && !c.pattern.MatchString(s):
		return "", validation(s, member(name), "Member must satisfy regular expression pattern: "+strings.Trim(c.pattern.String(), "^$"))
	}
	return s, nil
}

func (p params) get(name string) string { return p.Values.Get(name) }

// intParam returns an integer parameter within [lo, hi], or def.
func (p params) intParam(name string, def, lo, hi int) (int, error) {
	s := p.get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, validation(s, member(name), "Member must be an integer")
	}
	if n < lo {
		return 0, validation(n, member(name), fmt.Sprintf("Member must have value greater than or equal to %d", lo))
	}
	if n > hi {
		return 0, validation(n, member(name), fmt.Sprintf("Member must have value less than or equal to %d", hi))
	}
	return n, nil
}

// boolParam returns a boolean parameter, or false.
func (p params) boolParam(name string) (bool, error) {
	switch s := p.get(name); strings.ToLower(s) {
	case "":
		return false, nil
	case "true", "false":
		return s == "true" || s == "True" || s == "TRUE", nil
	default:
		return false, validation(s, member(name), "Member must be true or false")
	}
}

// page applies Marker and MaxItems to a list. The marker is the index of
// the next item.
func page[T any](p params, items []T) ([]T, bool, string, error) {
	max, err := p.intParam("MaxItems", 100, 1, 1000)
	if err != nil {
		return nil, false, "", err
	}
	start := 0
	if m := p.get("Marker"); m != "" {
		start, err = strconv.Atoi(m)
		if err != nil || start < 0 || start > len(items) {
			return nil, false, "", validation(m, "marker", "Member must be a marker returned by a previous call")
		}
	}
	end := min(start+max, len(items))
	if end < len(items) {
		return items[start:end], true, strconv.Itoa(end), nil
	}
	return items[start:end], false, "", nil
}

// pageOf applies Marker and MaxItems to a list as page does and renders the
// items of the page.
func pageOf[T, X any](p params, items []T, render func(T) X) (list[X], bool, string, error) {
	items, more, marker, err := page(p, items)
	if err != nil {
		return list[X]{}, false, "", err
	}
	var out list[X]
	for _, it := range items {
		out.Members = append(out.Members, render(it))
	}
	return out, more, marker, nil
}

// listByPath is the body of ListUsers and ListRoles: it reads PathPrefix,
// fetches the entities under it and renders one page of them.
func listByPath[T, X any](ctx context.Context, p params, fetch func(context.Context, string) ([]T, error), render func(T) X) (list[X], bool, string, error) {
	prefix, err := p.optional("PathPrefix", "/", prefixConstraint)
	if err != nil {
		return list[X]{}, false, "", err
	}
	items, err := fetch(ctx, prefix)
	if err != nil {
		return list[X]{}, false, "", err
	}
	return pageOf(p, items, render)
}

// parsePolicy checks a policy document of the given kind and turns its
// problems into MalformedPolicyDocument errors that give the position.
func parsePolicy(doc string, kind iam.Kind) (*iam.Policy, error) {
	pol, err := iam.ParseAs(doc, kind)
	if err != nil {
		return nil, awsapi.Errorf(http.StatusBadRequest, CodeMalformedPolicy, "Syntax errors in policy: %v", err)
	}
	return pol, nil
}

// encodeDoc URL-encodes a policy document as IAM returns it: spaces as %20,
// so that both form decoding and plain percent-decoding restore it.
func encodeDoc(doc string) string { return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20") }

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// newID returns prefix followed by random characters of IAM's id alphabet,
// 21 characters in all for entity ids, 20 for access key ids.
func newID(prefix string, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + string(b)
}

func newSecret() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, 40)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// list renders a list member: <Name><member>…</member></Name>, also when
// empty.
type list[T any] struct {
	Members []T `xml:"member"`
}
