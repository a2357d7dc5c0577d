package iamapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/iam"
	"tarn.dev/tarn/internal/store"
)

// owner describes the user or role an inline or attached policy call names.
type owner struct {
	kind  store.OwnerKind
	param string // "UserName" or "RoleName"
	c     constraint
}

func ownerOf(kind store.OwnerKind) owner {
	if kind == store.RoleOwner {
		return owner{kind, "RoleName", roleName}
	}
	return owner{kind, "UserName", userName}
}

// owner returns the name of the user or role a call names, after checking
// that it exists.
func (a *API) owner(ctx context.Context, p params, kind store.OwnerKind) (string, error) {
	o := ownerOf(kind)
	name, err := p.required(o.param, o.c)
	if err != nil {
		return "", err
	}
	if kind == store.RoleOwner {
		_, err = a.role(ctx, name)
	} else {
		_, err = a.user(ctx, name)
	}
	return name, err
}

// inline returns the owner and the PolicyName of an inline policy call.
func (a *API) inline(ctx context.Context, p params, kind store.OwnerKind) (name, pname string, err error) {
	if name, err = a.owner(ctx, p, kind); err != nil {
		return "", "", err
	}
	pname, err = p.required("PolicyName", policyName)
	return name, pname, err
}

func (a *API) putInline(kind store.OwnerKind) func(context.Context, params) (any, error) {
	return func(ctx context.Context, p params) (any, error) {
		name, pname, err := a.inline(ctx, p, kind)
		if err != nil {
			return nil, err
		}
		doc, err := p.required("PolicyDocument", docConstraint)
		if err != nil {
			return nil, err
		}
		if _, err := parsePolicy(doc, iam.Identity); err != nil {
			return nil, err
		}
		max := MaxUserInlinePolicyBytes
		if kind == store.RoleOwner {
			max = MaxRoleInlinePolicyBytes
		}
		err = a.cfg.Store.PutInlinePolicy(ctx, kind, name, pname, doc, max)
		if errors.Is(err, store.ErrLimitExceeded) {
			return nil, limitExceeded("Maximum policy size of %d bytes exceeded for %s %s", max, kind, name)
		}
		return nil, notFoundAs(err, noSuchOwner(kind, name))
	}
}

func (a *API) inlineNotFound(kind store.OwnerKind, name string) error {
	return noSuchEntity("The %s policy with name %s cannot be found.", kind, name)
}

func (a *API) getInline(kind store.OwnerKind) func(context.Context, params) (any, error) {
	return func(ctx context.Context, p params) (any, error) {
		name, pname, err := a.inline(ctx, p, kind)
		if err != nil {
			return nil, err
		}
		doc, err := a.cfg.Store.InlinePolicy(ctx, kind, name, pname)
		if err != nil {
			return nil, notFoundAs(err, a.inlineNotFound(kind, pname))
		}
		if kind == store.RoleOwner {
			return struct{ RoleName, PolicyName, PolicyDocument string }{name, pname, encodeDoc(doc)}, nil
		}
		return struct{ UserName, PolicyName, PolicyDocument string }{name, pname, encodeDoc(doc)}, nil
	}
}

func (a *API) deleteInline(kind store.OwnerKind) func(context.Context, params) (any, error) {
	return func(ctx context.Context, p params) (any, error) {
		name, pname, err := a.inline(ctx, p, kind)
		if err != nil {
			return nil, err
		}
		return nil, notFoundAs(a.cfg.Store.DeleteInlinePolicy(ctx, kind, name, pname), a.inlineNotFound(kind, pname))
	}
}

type listInlineResult struct {
	PolicyNames list[string]
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

func (a *API) listInline(kind store.OwnerKind) func(context.Context, params) (any, error) {
	return func(ctx context.Context, p params) (any, error) {
		name, err := a.owner(ctx, p, kind)
		if err != nil {
			return nil, err
		}
		pols, err := a.cfg.Store.InlinePolicies(ctx, kind, name)
		if err != nil {
			return nil, err
		}
		names, more, marker, err := pageOf(p, pols, func(pol store.InlinePolicy) string { return pol.Name })
		if err != nil {
			return nil, err
		}
		return listInlineResult{PolicyNames: names, IsTruncated: more, Marker: marker}, nil
	}
}

// policyARN returns the PolicyArn parameter after checking that it names an
// existing managed policy (AWS managed or customer).
func (a *API) policyARN(ctx context.Context, p params) (string, error) {
	arn, err := p.required("PolicyArn", arnConstraint)
	if err != nil {
		return "", err
	}
	if iam.IsAWSManagedARN(arn) {
		if _, ok := iam.Managed(arn); !ok {
			return "", notAttachable(arn)
		}
		return arn, nil
	}
	if _, err := a.cfg.Store.Policy(ctx, arn); err != nil {
		return "", notFoundAs(err, notAttachable(arn))
	}
	return arn, nil
}

func notAttachable(arn string) error {
	return noSuchEntity("Policy %s does not exist or is not attachable.", arn)
}

func (a *API) attach(kind store.OwnerKind) func(context.Context, params) (any, error) {
	return func(ctx context.Context, p params) (any, error) {
		name, err := a.owner(ctx, p, kind)
		if err != nil {
			return nil, err
		}
		arn, err := a.policyARN(ctx, p)
		if err != nil {
			return nil, err
		}
		max, quota := MaxPoliciesPerUser, "PoliciesPerUser"
		if kind == store.RoleOwner {
			max, quota = MaxPoliciesPerRole, "PoliciesPerRole"
		}
		err = a.cfg.Store.AttachPolicy(ctx, kind, name, arn, max)
		if errors.Is(err, store.ErrLimitExceeded) {
			return nil, limitExceeded("Cannot exceed quota for %s: %d", quota, max)
		}
		return nil, notFoundAs(err, notAttachable(arn))
	}
}

func (a *API) detach(kind store.OwnerKind) func(context.Context, params) (any, error) {
	return func(ctx context.Context, p params) (any, error) {
		name, err := a.owner(ctx, p, kind)
		if err != nil {
			return nil, err
		}
		arn, err := p.required("PolicyArn", arnConstraint)
		if err != nil {
			return nil, err
		}
		return nil, notFoundAs(a.cfg.Store.DetachPolicy(ctx, kind, name, arn), noSuchPolicy(arn))
	}
}

type xmlAttached struct {
	PolicyName, PolicyArn string
}

type listAttachedResult struct {
	AttachedPolicies list[xmlAttached]
	IsTruncated      bool
	Marker           string `xml:",omitempty"`
}

func (a *API) listAttached(kind store.OwnerKind) func(context.Context, params) (any, error) {
	return func(ctx context.Context, p params) (any, error) {
		name, err := a.owner(ctx, p, kind)
		if err != nil {
			return nil, err
		}
		prefix, err := p.optional("PathPrefix", "/", prefixConstraint)
		if err != nil {
			return nil, err
		}
		arns, err := a.cfg.Store.AttachedPolicies(ctx, kind, name)
		if err != nil {
			return nil, err
		}
		var all []xmlAttached
		for _, arn := range arns {
			path, pname := splitPolicyARN(arn)
			if strings.HasPrefix(path, prefix) {
				all = append(all, xmlAttached{PolicyName: pname, PolicyArn: arn})
			}
		}
		items, more, marker, err := page(p, all)
		if err != nil {
			return nil, err
		}
		return listAttachedResult{AttachedPolicies: list[xmlAttached]{items}, IsTruncated: more, Marker: marker}, nil
	}
}

// splitPolicyARN returns the path and name of a policy ARN
// (arn:aws:iam::acct:policy/path/name).
func splitPolicyARN(arn string) (path, name string) {
	_, res, _ := strings.Cut(arn, ":policy/")
	i := strings.LastIndexByte(res, '/')
	return "/" + res[:i+1], res[i+1:]
}

type xmlPolicy struct {
	PolicyName                    string
	PolicyID                      string `xml:"PolicyId"`
	Arn                           string
	Path                          string
	DefaultVersionID              string `xml:"DefaultVersionId"`
	AttachmentCount               int
	PermissionsBoundaryUsageCount int
	IsAttachable                  bool
	Description                   string `xml:",omitempty"`
	CreateDate                    string
	UpdateDate                    string
}

func customerPolicyXML(m store.ManagedPolicy) xmlPolicy {
	return xmlPolicy{PolicyName: m.Name, PolicyID: m.ID, Arn: m.ARN, Path: m.Path, DefaultVersionID: m.DefaultVersion,
		AttachmentCount: m.AttachmentCount, IsAttachable: true, Description: m.Description,
		CreateDate: isoTime(m.Created), UpdateDate: isoTime(m.Updated)}
}

func awsPolicyXML(m iam.ManagedPolicy, attachments int) xmlPolicy {
	return xmlPolicy{PolicyName: m.Name, PolicyID: m.ID(), Arn: m.ARN(), Path: m.Path, DefaultVersionID: m.VersionID,
		AttachmentCount: attachments, IsAttachable: true, Description: m.Description,
		CreateDate: isoTime(m.Created), UpdateDate: isoTime(m.Updated)}
}

func noSuchPolicy(arn string) error { return noSuchEntity("Policy %s was not found.", arn) }

type policyResult struct {
	Policy xmlPolicy
}

// policySize counts a managed policy document as IAM does for its quota:
// without white space.
func policySize(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

func (a *API) createPolicy(ctx context.Context, p params) (any, error) {
	name, err := p.required("PolicyName", policyName)
	if err != nil {
		return nil, err
	}
	path, err := p.optional("Path", "/", pathConstraint)
	if err != nil {
		return nil, err
	}
	doc, err := p.required("PolicyDocument", docConstraint)
	if err != nil {
		return nil, err
	}
	desc, err := p.optional("Description", "", constraint{nil, 0, 1000})
	if err != nil {
		return nil, err
	}
	if _, err := parsePolicy(doc, iam.Identity); err != nil {
		return nil, err
	}
	if policySize(doc) > MaxManagedPolicyChars {
		return nil, limitExceeded("Cannot exceed quota for PolicySize: %d", MaxManagedPolicyChars)
	}
	now := a.cfg.Now().UTC()
	m := store.ManagedPolicy{ARN: a.arn("policy" + path + name), Name: name, ID: newID("ANPA", 17), Path: path,
		Description: desc, DefaultVersion: "v1", Created: now, Updated: now}
	if err := a.cfg.Store.CreatePolicy(ctx, m, doc); err != nil {
		var ee *store.ExistsError
		if errors.As(err, &ee) {
			return nil, exists("A policy called %s already exists. Duplicate names are not allowed.", name)
		}
		return nil, err
	}
	return policyResult{customerPolicyXML(m)}, nil
}

func (a *API) getPolicy(ctx context.Context, p params) (any, error) {
	arn, err := p.required("PolicyArn", arnConstraint)
	if err != nil {
		return nil, err
	}
	if m, ok := iam.Managed(arn); ok {
		counts, err := a.cfg.Store.AttachmentCounts(ctx)
		if err != nil {
			return nil, err
		}
		return policyResult{awsPolicyXML(m, counts[arn])}, nil
	}
	m, err := a.cfg.Store.Policy(ctx, arn)
	if err != nil {
		return nil, notFoundAs(err, noSuchPolicy(arn))
	}
	return policyResult{customerPolicyXML(m)}, nil
}

func (a *API) deletePolicy(ctx context.Context, p params) (any, error) {
	arn, err := p.required("PolicyArn", arnConstraint)
	if err != nil {
		return nil, err
	}
	if iam.IsAWSManagedARN(arn) {
		return nil, awsapi.Errorf(http.StatusBadRequest, CodeInvalidInput, "AWS managed policy %s cannot be deleted.", arn)
	}
	err = a.cfg.Store.DeletePolicy(ctx, arn)
	if errors.Is(err, store.ErrInUse) {
		return nil, deleteConflict("Cannot delete a policy attached to entities.")
	}
	return nil, notFoundAs(err, noSuchPolicy(arn))
}

type listPoliciesResult struct {
	Policies    list[xmlPolicy]
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

func (a *API) listPolicies(ctx context.Context, p params) (any, error) {
	scope := p.get("Scope")
	switch scope {
	case "":
		scope = "All"
	case "All", "AWS", "Local":
	default:
		return nil, validation(scope, "scope", "Member must satisfy enum value set: [All, AWS, Local]")
	}
	onlyAttached, err := p.boolParam("OnlyAttached")
	if err != nil {
		return nil, err
	}
	prefix, err := p.optional("PathPrefix", "/", prefixConstraint)
	if err != nil {
		return nil, err
	}
	var all []xmlPolicy
	if scope != "Local" {
		counts, err := a.cfg.Store.AttachmentCounts(ctx)
		if err != nil {
			return nil, err
		}
		for _, m := range iam.ManagedPolicies() {
			if strings.HasPrefix(m.Path, prefix) {
				all = append(all, awsPolicyXML(m, counts[m.ARN()]))
			}
		}
	}
	if scope != "AWS" {
		local, err := a.cfg.Store.Policies(ctx, prefix)
		if err != nil {
			return nil, err
		}
		for _, m := range local {
			all = append(all, customerPolicyXML(m))
		}
	}
	if onlyAttached {
		kept := all[:0]
		for _, x := range all {
			if x.AttachmentCount > 0 {
				kept = append(kept, x)
			}
		}
		all = kept
	}
	items, more, marker, err := page(p, all)
	if err != nil {
		return nil, err
	}
	// Descriptions appear only in GetPolicy.
	for i := range items {
		items[i].Description = ""
	}
	return listPoliciesResult{Policies: list[xmlPolicy]{items}, IsTruncated: more, Marker: marker}, nil
}

type xmlPolicyVersion struct {
	Document         string `xml:",omitempty"`
	VersionID        string `xml:"VersionId"`
	IsDefaultVersion bool
	CreateDate       string
}

type policyVersionResult struct {
	PolicyVersion xmlPolicyVersion
}

func (a *API) getPolicyVersion(ctx context.Context, p params) (any, error) {
	arn, err := p.required("PolicyArn", arnConstraint)
	if err != nil {
		return nil, err
	}
	vid, err := p.required("VersionId", versionID)
	if err != nil {
		return nil, err
	}
	if iam.IsAWSManagedARN(arn) {
		m, ok := iam.Managed(arn)
		if !ok {
			return nil, noSuchPolicy(arn)
		}
		if vid != m.VersionID {
			return nil, noSuchVersion(arn, vid)
		}
		return policyVersionResult{xmlPolicyVersion{Document: encodeDoc(m.Document), VersionID: vid, IsDefaultVersion: true,
			CreateDate: isoTime(m.Updated)}}, nil
	}
	v, err := a.cfg.Store.PolicyVersion(ctx, arn, vid)
	if err != nil {
		return nil, notFoundAs(err, noSuchVersion(arn, vid))
	}
	return policyVersionResult{xmlPolicyVersion{Document: encodeDoc(v.Document), VersionID: v.VersionID,
		IsDefaultVersion: v.IsDefault, CreateDate: isoTime(v.Created)}}, nil
}

func noSuchVersion(arn, vid string) error {
	return noSuchEntity("Policy %s version %s does not exist or is not attachable.", arn, vid)
}

func (a *API) createPolicyVersion(ctx context.Context, p params) (any, error) {
	arn, err := p.required("PolicyArn", arnConstraint)
	if err != nil {
		return nil, err
	}
	doc, err := p.required("PolicyDocument", docConstraint)
	if err != nil {
		return nil, err
	}
	setDefault, err := p.boolParam("SetAsDefault")
	if err != nil {
		return nil, err
	}
	if iam.IsAWSManagedARN(arn) {
		return nil, awsapi.Errorf(http.StatusBadRequest, CodeInvalidInput, "AWS managed policy %s cannot be changed.", arn)
	}
	if _, err := parsePolicy(doc, iam.Identity); err != nil {
		return nil, err
	}
	if policySize(doc) > MaxManagedPolicyChars {
		return nil, limitExceeded("Cannot exceed quota for PolicySize: %d", MaxManagedPolicyChars)
	}
	v, err := a.cfg.Store.CreatePolicyVersion(ctx, arn, doc, setDefault, MaxPolicyVersions, a.cfg.Now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, noSuchPolicy(arn)
	case errors.Is(err, store.ErrLimitExceeded):
		return nil, limitExceeded("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", MaxPolicyVersions)
	case err != nil:
		return nil, err
	}
	return policyVersionResult{xmlPolicyVersion{VersionID: v.VersionID, IsDefaultVersion: v.IsDefault, CreateDate: isoTime(v.Created)}}, nil
}
