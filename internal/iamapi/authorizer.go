package iamapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/iam"
	"tarn.dev/tarn/internal/store"
)

// Authorizer decides whether the holder of an access key may perform an
// action on a resource, from the identity policies of the key's principal.
// Keys of an account root are allowed everything. Keys and policies are
// cached; the IAM API invalidates the caches on every change, so a
// decision never uses policies older than the last completed IAM call.
type Authorizer struct {
	st *store.Store

	mu       sync.Mutex
	gen      uint64                   // bumped by Invalidate
	keys     map[string]keyEntry      // by access key id
	policies map[string][]*iam.Policy // by principal ARN
}

type keyEntry struct {
	principal string
	active    bool
}

// NewAuthorizer returns an Authorizer over the store.
func NewAuthorizer(st *store.Store) *Authorizer {
	return &Authorizer{st: st, keys: map[string]keyEntry{}, policies: map[string][]*iam.Policy{}}
}

// Invalidate forgets every cached key and policy.
func (a *Authorizer) Invalidate() {
	a.mu.Lock()
	a.gen++
	clear(a.keys)
	clear(a.policies)
	a.mu.Unlock()
}

// errInvalidKey is what AWS answers for an unknown or inactive key.
var errInvalidKey = awsapi.Errorf(http.StatusForbidden, CodeInvalidClientKey, "The security token included in the request is invalid.")

// Principal returns the ARN of the principal of an active access key. An
// unknown or inactive key is a 403 InvalidClientTokenId *awsapi.Error.
func (a *Authorizer) Principal(ctx context.Context, accessKeyID string) (string, error) {
	a.mu.Lock()
	e, ok := a.keys[accessKeyID]
	gen := a.gen
	a.mu.Unlock()
	if !ok {
		k, err := a.st.AccessKey(ctx, accessKeyID)
		if errors.Is(err, store.ErrNotFound) {
			return "", errInvalidKey
		}
		if err != nil {
			return "", fmt.Errorf("authorize key %s: %w", accessKeyID, err)
		}
		e = keyEntry{principal: k.Principal, active: k.Status == "Active"}
		a.mu.Lock()
		if a.gen == gen {
			a.keys[accessKeyID] = e
		}
		a.mu.Unlock()
	}
	if !e.active {
		return "", errInvalidKey
	}
	return e.principal, nil
}

// IdentityPolicies returns the identity policies of a principal: the inline
// and attached policies of a user (by user ARN) or a role (by role ARN or
// assumed-role session ARN). A principal that no longer exists returns
// store.ErrNotFound; an account root has none (it needs none).
func (a *Authorizer) IdentityPolicies(ctx context.Context, principal string) ([]*iam.Policy, error) {
	if iam.IsRoot(principal) {
		return nil, nil
	}
	a.mu.Lock()
	ps, ok := a.policies[principal]
	gen := a.gen
	a.mu.Unlock()
	if ok {
		return ps, nil
	}
	ps, err := a.load(ctx, principal)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	if a.gen == gen {
		a.policies[principal] = ps
	}
	a.mu.Unlock()
	return ps, nil
}

func (a *Authorizer) load(ctx context.Context, principal string) ([]*iam.Policy, error) {
	parts := strings.SplitN(principal, ":", 6)
	if len(parts) < 6 {
		return nil, fmt.Errorf("principal %q: %w", principal, store.ErrNotFound)
	}
	var kind store.OwnerKind
	var name, label string
	switch res := parts[5]; {
	case parts[2] == "iam" && strings.HasPrefix(res, "user/"):
		u, err := a.st.UserByARN(ctx, principal)
		if err != nil {
			return nil, err
		}
		kind, name, label = store.UserOwner, u.Name, "user/"+u.Name
	case parts[2] == "iam" && strings.HasPrefix(res, "role/"):
		r, err := a.st.RoleByARN(ctx, principal)
		if err != nil {
			return nil, err
		}
		kind, name, label = store.RoleOwner, r.Name, "role/"+r.Name
	case parts[2] == "sts" && strings.HasPrefix(res, "assumed-role/"):
		roleName, _, _ := strings.Cut(strings.TrimPrefix(res, "assumed-role/"), "/")
		r, err := a.st.Role(ctx, roleName)
		if err != nil {
			return nil, err
		}
		kind, name, label = store.RoleOwner, r.Name, "role/"+r.Name
	default:
		return nil, fmt.Errorf("principal %q: %w", principal, store.ErrNotFound)
	}
	var out []*iam.Policy
	inline, err := a.st.InlinePolicies(ctx, kind, name)
	if err != nil {
		return nil, err
	}
	for _, ip := range inline {
		p, err := iam.ParseAs(ip.Document, iam.Identity)
		if err != nil {
			return nil, fmt.Errorf("inline policy %s of %s: %w", ip.Name, label, err)
		}
		p.Name = fmt.Sprintf("%s inline policy %s", label, ip.Name)
		out = append(out, p)
	}
	arns, err := a.st.AttachedPolicies(ctx, kind, name)
	if err != nil {
		return nil, err
	}
	for _, arn := range arns {
		if m, ok := iam.Managed(arn); ok {
			out = append(out, m.Policy())
			continue
		}
		v, err := a.st.PolicyVersion(ctx, arn, "")
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted since it was attached: grants nothing
		}
		if err != nil {
			return nil, err
		}
		p, err := iam.ParseAs(v.Document, iam.Identity)
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", arn, err)
		}
		p.Name = arn
		out = append(out, p)
	}
	return out, nil
}

// Authorize returns nil when the holder of accessKeyID may perform action
// (as "service:Action") on resource (an ARN, or "*"), and otherwise a 403
// *awsapi.Error: AccessDeniedException worded as AWS words it, or
// InvalidClientTokenId for an unknown or inactive key. The keys of an
// account root may do everything. reqContext holds extra condition keys;
// aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType and
// aws:username are added.
func (a *Authorizer) Authorize(ctx context.Context, accessKeyID, action, resource string, reqContext map[string][]string) error {
	principal, err := a.Principal(ctx, accessKeyID)
	if err != nil {
		return err
	}
	if iam.IsRoot(principal) {
		return nil
	}
	policies, err := a.IdentityPolicies(ctx, principal)
	if errors.Is(err, store.ErrNotFound) {
		// The user or role behind the key is gone.
		return errInvalidKey
	}
	if err != nil {
		return err
	}
	rc := make(map[string][]string, len(reqContext)+4)
	parts := strings.SplitN(principal, ":", 6)
	rc["aws:PrincipalArn"] = []string{principal}
	if len(parts) == 6 {
		rc["aws:PrincipalAccount"] = []string{parts[4]}
		if u, ok := strings.CutPrefix(parts[5], "user/"); ok {
			rc["aws:username"] = []string{u[strings.LastIndexByte(u, '/')+1:]}
			rc["aws:PrincipalType"] = []string{"User"}
		} else if strings.HasPrefix(parts[5], "assumed-role/") {
			rc["aws:PrincipalType"] = []string{"AssumedRole"}
		}
	}
	for k, v := range reqContext {
		rc[k] = v
	}
	d := iam.Evaluate(iam.Request{Principal: principal, Action: action, Resource: resource, Context: rc}, policies, nil)
	if d.Allowed {
		return nil
	}
	why := fmt.Sprintf("because no identity-based policy allows the %s action", action)
	if d.ExplicitDeny {
		why = "with an explicit deny in an identity-based policy: " + d.Policy.Name
	}
	return awsapi.Errorf(http.StatusForbidden, CodeAccessDenied, "User: %s is not authorized to perform: %s on resource: %s %s",
		principal, action, resource, why)
}
