package iam

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Request is what a principal asks to do.
type Request struct {
	// Principal is the ARN of the caller (user, role, assumed-role session or
	// account root), a service name such as "lambda.amazonaws.com", or ""
	// for an anonymous caller.
	Principal string
	Action    string // "service:Action"
	Resource  string // ARN, or "*"
	// Context holds condition keys and their values. Keys are matched
	// without regard to case, as AWS does.
	Context map[string][]string
}

// Decision is the outcome of Evaluate.
type Decision struct {
	Allowed bool
	// ExplicitDeny is set when a Deny statement matched; otherwise a refusal
	// is the implicit deny (nothing allowed the request).
	ExplicitDeny bool
	// Policy and Statement say which statement decided; Policy is nil for an
	// implicit deny. FromResource is set when it was the resource policy.
	Policy       *Policy
	Statement    int
	FromResource bool
}

func (d Decision) String() string {
	if d.Policy == nil {
		return "implicit deny: no statement allows the request"
	}
	verb := "allowed"
	if !d.Allowed {
		verb = "explicit deny"
	}
	where := fmt.Sprintf("statement %d", d.Statement+1)
	if sid := d.Policy.Statements[d.Statement].Sid; sid != "" {
		where += fmt.Sprintf(" (Sid %q)", sid)
	}
	name := d.Policy.Name
	if name == "" {
		name = "(unnamed)"
	}
	kind := "identity-based policy"
	if d.FromResource {
		kind = "resource-based policy"
	}
	return fmt.Sprintf("%s by %s of %s %s", verb, where, kind, name)
}

// Evaluate decides a request as AWS does for one account: an explicit Deny in
// any policy wins; otherwise an Allow in an identity policy or in the
// resource policy allows; otherwise the request is implicitly denied. When the
// principal and the resource belong to different accounts, both the identity
// and the resource policy must allow. resource may be nil.
func Evaluate(req Request, identity []*Policy, resource *Policy) Decision {
	ctx := make(map[string][]string, len(req.Context))
	for k, v := range req.Context {
		ctx[strings.ToLower(k)] = v
	}
	var idAllow, resAllow *Decision
	for _, p := range identity {
		if p == nil {
			continue
		}
		for i := range p.Statements {
			s := &p.Statements[i]
			if !s.matches(req, ctx, false) {
				continue
			}
			if s.Effect == Deny {
				return Decision{ExplicitDeny: true, Policy: p, Statement: i}
			}
			if idAllow == nil {
				idAllow = &Decision{Allowed: true, Policy: p, Statement: i}
			}
		}
	}
	if resource != nil {
		for i := range resource.Statements {
			s := &resource.Statements[i]
			if !s.matches(req, ctx, true) {
				continue
			}
			if s.Effect == Deny {
				return Decision{ExplicitDeny: true, Policy: resource, Statement: i, FromResource: true}
			}
			if resAllow == nil {
				resAllow = &Decision{Allowed: true, Policy: resource, Statement: i, FromResource: true}
			}
		}
	}
	pa, ra := arnAccount(req.Principal), arnAccount(req.Resource)
	if pa != "" && ra != "" && pa != ra {
		if idAllow != nil && resAllow != nil {
			return *resAllow
		}
		return Decision{}
	}
	switch {
	case idAllow != nil:
		return *idAllow
	case resAllow != nil:
		return *resAllow
	}
	return Decision{}
}

// arnAccount returns the account field of an ARN, or "".
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}

func (s *Statement) matches(req Request, ctx map[string][]string, resourcePolicy bool) bool {
	if resourcePolicy {
		if s.Principal == nil || s.Principal.matches(req.Principal) == s.NotPrincipal {
			return false
		}
	}
	if anyMatch(s.Actions, req.Action, true) == s.NotAction {
		return false
	}
	// A resource policy statement without Resource covers the resource it
	// is attached to.
	if len(s.Resources) > 0 && anyMatch(s.Resources, req.Resource, false) == s.NotResource {
		return false
	}
	for i := range s.Conditions {
		if !s.Conditions[i].holds(ctx) {
			return false
		}
	}
	return true
}

func anyMatch(patterns []string, value string, fold bool) bool {
	for _, p := range patterns {
		if Match(p, value, fold) {
			return true
		}
	}
	return false
}

// matches reports whether the principal who is among p.
func (p *Principals) matches(who string) bool {
	if p.Any {
		return true
	}
	for _, a := range p.AWS {
		if a == "*" || a == who {
			return true
		}
		if who == "" {
			continue
		}
		// An account id or the account's root ARN stands for every principal
		// of the account.
		acct := a
		if strings.HasPrefix(a, "arn:") {
			if !strings.HasSuffix(a, ":root") {
				if sameRole(a, who) {
					return true
				}
				continue
			}
			acct = arnAccount(a)
		}
		if accountID.MatchString(acct) && arnAccount(who) == acct {
			return true
		}
	}
	for _, s := range p.Service {
		if s == "*" || strings.EqualFold(s, who) {
			return true
		}
	}
	for _, f := range p.Federated {
		if f == "*" || f == who {
			return true
		}
	}
	return false
}

// sameRole reports whether who is a session of the role roleARN: an
// assumed-role ARN (arn:aws:sts::123456789012:assumed-role/name/session)
// names its role without the role's path.
func sameRole(roleARN, who string) bool {
	rp := strings.SplitN(roleARN, ":", 6)
	wp := strings.SplitN(who, ":", 6)
	if len(rp) < 6 || len(wp) < 6 || wp[2] != "sts" || rp[2] != "iam" || rp[4] != wp[4] {
		return false
	}
	role, ok := strings.CutPrefix(rp[5], "role/")
	session, ok2 := strings.CutPrefix(wp[5], "assumed-role/")
	if !ok || !ok2 {
		return false
	}
	name, _, _ := strings.Cut(session, "/")
	return role[strings.LastIndexByte(role, '/')+1:] == name
}

// Match reports whether value matches pattern, where * matches any run of
// characters (including none) and ? any single character. fold makes the
// comparison case-insensitive, as for actions.
func Match(pattern, value string, fold bool) bool {
	if fold {
		pattern, value = strings.ToLower(pattern), strings.ToLower(value)
	}
	// Iterative glob with single-star backtracking: linear in practice and
	// never exponential.
	p, v := 0, 0
	star, mark := -1, 0
	for v < len(value) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == value[v]):
			p++
			v++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, v
			p++
		case star >= 0:
			p = star + 1
			mark++
			v = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// holds evaluates the condition against the request context.
func (c *Condition) holds(ctx map[string][]string) bool {
	vals, present := ctx[strings.ToLower(c.Key)]
	present = present && len(vals) > 0
	if c.op == "Null" {
		want := strings.EqualFold(c.Values[0], "true")
		return want != present
	}
	info := operators[c.op]
	if !present {
		if c.ifExists {
			return true
		}
		switch c.set {
		case "ForAllValues":
			return true
		case "ForAnyValue":
			return false
		}
		return info.negated
	}
	// one reports whether a single request value satisfies the operator.
	one := func(x string) bool {
		m := false
		for _, want := range c.Values {
			if compare(c.op, info.family, x, want) {
				m = true
				break
			}
		}
		return m != info.negated
	}
	switch c.set {
	case "ForAllValues":
		for _, x := range vals {
			if !one(x) {
				return false
			}
		}
		return true
	case "ForAnyValue":
		for _, x := range vals {
			if one(x) {
				return true
			}
		}
		return false
	}
	// A single-valued operator on a multivalued key: positive operators hold
	// when any value matches, negated ones when none does.
	if info.negated {
		for _, x := range vals {
			if !one(x) {
				return false
			}
		}
		return true
	}
	for _, x := range vals {
		if one(x) {
			return true
		}
	}
	return false
}

// compare applies the positive form of operator op to a request value x and a
// policy value want.
func compare(op, family, x, want string) bool {
	switch family {
	case "string":
		return x == want
	case "stringi":
		return strings.EqualFold(x, want)
	case "like":
		return Match(want, x, false)
	case "arnlike":
		return arnMatch(want, x)
	case "bool":
		return strings.EqualFold(x, want)
	case "num":
		a, err1 := strconv.ParseFloat(x, 64)
		b, err2 := strconv.ParseFloat(want, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		return ordered(op, a < b, a == b)
	case "date":
		a, ok1 := parseDate(x)
		b, ok2 := parseDate(want)
		if !ok1 || !ok2 {
			return false
		}
		return ordered(op, a.Before(b), a.Equal(b))
	case "ip":
		a, err := netip.ParseAddr(x)
		pr, ok := parsePrefix(want)
		return err == nil && ok && pr.Contains(a.Unmap())
	}
	return false
}

func ordered(op string, less, equal bool) bool {
	switch {
	case strings.HasSuffix(op, "LessThan"):
		return less
	case strings.HasSuffix(op, "LessThanEquals"):
		return less || equal
	case strings.HasSuffix(op, "GreaterThan"):
		return !less && !equal
	case strings.HasSuffix(op, "GreaterThanEquals"):
		return !less
	}
	return equal // Equals and NotEquals
}

// arnMatch compares ARNs field by field, as ArnEquals and ArnLike do: each of
// the six fields must match, with wildcards confined to their field except in
// the last (the resource, which may contain colons).
func arnMatch(pattern, arn string) bool {
	pp := strings.SplitN(pattern, ":", 6)
	ap := strings.SplitN(arn, ":", 6)
	if len(pp) != 6 || len(ap) != 6 {
		return false
	}
	for i := range pp {
		if !Match(pp[i], ap[i], false) {
			return false
		}
	}
	return true
}
