package iam

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Effect is the effect of a statement.
type Effect string

// The two effects.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Kind says what a policy document is for; it decides which statement
// elements are required or forbidden.
type Kind int

const (
	// AnyKind accepts every element; Principal and Resource are optional.
	AnyKind Kind = iota
	// Identity policies (inline and managed) attach to users and roles:
	// no Principal, Resource required.
	Identity
	// Resource policies (file-system policies) name a Principal; Resource is
	// optional and defaults to the resource the policy is attached to.
	Resource
	// Trust policies (a role's assume-role policy) name a Principal and no
	// Resource.
	Trust
)

// Policy is a parsed policy document.
type Policy struct {
	// Name identifies the policy in decisions (an ARN, or "role/x inline y");
	// the caller sets it.
	Name       string
	Version    string
	ID         string
	Statements []Statement
}

// Statement is one statement of a policy.
type Statement struct {
	Sid    string
	Effect Effect
	// Principal is nil when the statement names none; NotPrincipal inverts it.
	Principal    *Principals
	NotPrincipal bool
	// Actions are "service:action" patterns; NotAction inverts them.
	Actions   []string
	NotAction bool
	// Resources are ARN patterns; empty means the statement has no Resource
	// element. NotResource inverts them.
	Resources   []string
	NotResource bool
	Conditions  []Condition
}

// Principals are the principals a statement names.
type Principals struct {
	// Any is set by "Principal": "*".
	Any                                bool
	AWS, Service, Federated, Canonical []string
}

// Condition is one key test of a Condition block.
type Condition struct {
	Operator string // as written, e.g. "ForAnyValue:StringLikeIfExists"
	Key      string
	Values   []string

	op       string // base operator, e.g. "StringLike"
	set      string // "", "ForAnyValue" or "ForAllValues"
	ifExists bool
}

// Policy versions.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// operators lists the base condition operators and whether each is negated.
var operators = map[string]struct {
	family  string
	negated bool
}{
	"StringEquals": {"string", false}, "StringNotEquals": {"string", true},
	"StringEqualsIgnoreCase": {"stringi", false}, "StringNotEqualsIgnoreCase": {"stringi", true},
	"StringLike": {"like", false}, "StringNotLike": {"like", true},
	"ArnEquals": {"arnlike", false}, "ArnNotEquals": {"arnlike", true},
	"ArnLike": {"arnlike", false}, "ArnNotLike": {"arnlike", true},
	"Bool":          {"bool", false},
	"Null":          {"null", false},
	"NumericEquals": {"num", false}, "NumericNotEquals": {"num", true},
	"NumericLessThan": {"num", false}, "NumericLessThanEquals": {"num", false},
	"NumericGreaterThan": {"num", false}, "NumericGreaterThanEquals": {"num", false},
	"DateEquals": {"date", false}, "DateNotEquals": {"date", true},
	"DateLessThan": {"date", false}, "DateLessThanEquals": {"date", false},
	"DateGreaterThan": {"date", false}, "DateGreaterThanEquals": {"date", false},
	"IpAddress": {"ip", false}, "NotIpAddress": {"ip", true},
}

// Parse parses a policy document of any kind. Problems are *ParseError
// values that give the line and column of the member at fault.
func Parse(doc string) (*Policy, error) { return ParseAs(doc, AnyKind) }

// ParseAs parses a policy document and checks the elements that kind
// requires or forbids.
func ParseAs(doc string, kind Kind) (*Policy, error) {
	root, p, err := parseTree(doc)
	if err != nil {
		return nil, err
	}
	if root.kind != kObject {
		return nil, p.errorf(root.off, "policy document must be a JSON object, not %s", root.kind)
	}
	pol := &Policy{Version: Version2008}
	var stmts *node
	for _, m := range root.members {
		switch m.key {
		case "Version":
			if m.val.kind != kString || (m.val.str != Version2012 && m.val.str != Version2008) {
				return nil, p.errorf(m.val.off, "Version must be %q or %q", Version2012, Version2008)
			}
			pol.Version = m.val.str
		case "Id":
			if m.val.kind != kString {
				return nil, p.errorf(m.val.off, "Id must be a string, not %s", m.val.kind)
			}
			pol.ID = m.val.str
		case "Statement":
			stmts = m.val
		default:
			return nil, p.errorf(m.keyOff, "unknown policy element %q: the top level has Version, Id and Statement", m.key)
		}
	}
	if stmts == nil {
		return nil, p.errorf(root.off, "policy has no Statement")
	}
	list := []*node{stmts}
	switch stmts.kind {
	case kObject:
	case kArray:
		list = stmts.elems
		if len(list) == 0 {
			return nil, p.errorf(stmts.off, "Statement must not be empty")
		}
	default:
		return nil, p.errorf(stmts.off, "Statement must be an object or an array of objects, not %s", stmts.kind)
	}
	sids := map[string]bool{}
	for _, n := range list {
		s, err := p.statement(n, kind)
		if err != nil {
			return nil, err
		}
		if s.Sid != "" {
			if sids[s.Sid] {
				return nil, p.errorf(n.off, "statement ids (Sid) must be unique: %q appears twice", s.Sid)
			}
			sids[s.Sid] = true
		}
		pol.Statements = append(pol.Statements, s)
	}
	return pol, nil
}

var (
	actionPattern = regexp.MustCompile(`^[a-zA-Z0-9-]+:[a-zA-Z0-9*?_-]*$`)
	accountID     = regexp.MustCompile(`^\d{12}$`)
)

func (p *parser) statement(n *node, kind Kind) (Statement, error) {
	var s Statement
	if n.kind != kObject {
		return s, p.errorf(n.off, "each statement must be an object, not %s", n.kind)
	}
	var hasEffect, hasAction, hasResource, hasPrincipal bool
	for _, m := range n.members {
		v := m.val
		var err error
		switch m.key {
		case "Sid":
			if v.kind != kString {
				return s, p.errorf(v.off, "Sid must be a string, not %s", v.kind)
			}
			s.Sid = v.str
		case "Effect":
			if v.kind != kString || (v.str != string(Allow) && v.str != string(Deny)) {
				return s, p.errorf(v.off, "Effect must be \"Allow\" or \"Deny\"")
			}
			s.Effect, hasEffect = Effect(v.str), true
		case "Action", "NotAction":
			if hasAction {
				return s, p.errorf(m.keyOff, "a statement has either Action or NotAction, not both")
			}
			hasAction, s.NotAction = true, m.key == "NotAction"
			if s.Actions, err = p.strings(v, m.key); err != nil {
				return s, err
			}
			for i, a := range s.Actions {
				if a != "*" && !actionPattern.MatchString(a) {
					return s, p.errorf(p.elemOff(v, i), "%s %q must be \"*\" or prefaced by a service, as in \"elasticfilesystem:ClientMount\"", m.key, a)
				}
			}
		case "Resource", "NotResource":
			if hasResource {
				return s, p.errorf(m.keyOff, "a statement has either Resource or NotResource, not both")
			}
			hasResource, s.NotResource = true, m.key == "NotResource"
			if s.Resources, err = p.strings(v, m.key); err != nil {
				return s, err
			}
			for i, r := range s.Resources {
				if r != "*" && (!strings.HasPrefix(r, "arn:") || strings.Count(r, ":") < 5) {
					return s, p.errorf(p.elemOff(v, i), "%s %q must be in ARN format or \"*\"", m.key, r)
				}
			}
		case "Principal", "NotPrincipal":
			if hasPrincipal {
				return s, p.errorf(m.keyOff, "a statement has either Principal or NotPrincipal, not both")
			}
			hasPrincipal, s.NotPrincipal = true, m.key == "NotPrincipal"
			if s.Principal, err = p.principals(v, m.key); err != nil {
				return s, err
			}
		case "Condition":
			if s.Conditions, err = p.conditions(v); err != nil {
				return s, err
			}
		default:
			return s, p.errorf(m.keyOff, "unknown statement element %q", m.key)
		}
	}
	switch {
	case !hasEffect:
		return s, p.errorf(n.off, "statement has no Effect")
	case !hasAction:
		return s, p.errorf(n.off, "statement has no Action or NotAction")
	}
	switch kind {
	case Identity:
		if hasPrincipal {
			return s, p.errorf(n.off, "an identity-based policy must not specify a Principal")
		}
		if !hasResource {
			return s, p.errorf(n.off, "statement has no Resource or NotResource")
		}
	case Resource, Trust:
		if !hasPrincipal {
			return s, p.errorf(n.off, "statement has no Principal or NotPrincipal")
		}
		if kind == Trust && hasResource {
			return s, p.errorf(n.off, "a trust policy must not specify a Resource")
		}
	}
	return s, nil
}

// elemOff is the offset of element i of a string-or-list value.
func (p *parser) elemOff(v *node, i int) int64 {
	if v.kind == kArray {
		return v.elems[i].off
	}
	return v.off
}

// strings reads a value that is a string or a non-empty list of strings.
func (p *parser) strings(v *node, what string) ([]string, error) {
	switch v.kind {
	case kString:
		return []string{v.str}, nil
	case kArray:
		if len(v.elems) == 0 {
			return nil, p.errorf(v.off, "%s must not be an empty list", what)
		}
		out := make([]string, len(v.elems))
		for i, e := range v.elems {
			if e.kind != kString {
				return nil, p.errorf(e.off, "%s must be a string or a list of strings; this element is %s", what, e.kind)
			}
			out[i] = e.str
		}
		return out, nil
	}
	return nil, p.errorf(v.off, "%s must be a string or a list of strings, not %s", what, v.kind)
}

func (p *parser) principals(v *node, what string) (*Principals, error) {
	if v.kind == kString {
		if v.str != "*" {
			return nil, p.errorf(v.off, "%s must be \"*\" or an object such as {\"AWS\": \"arn:aws:iam::123456789012:root\"}", what)
		}
		return &Principals{Any: true}, nil
	}
	if v.kind != kObject {
		return nil, p.errorf(v.off, "%s must be \"*\" or an object, not %s", what, v.kind)
	}
	pr := &Principals{}
	for _, m := range v.members {
		vals, err := p.strings(m.val, what+"."+m.key)
		if err != nil {
			return nil, err
		}
		switch m.key {
		case "AWS":
			for i, a := range vals {
				if a != "*" && !accountID.MatchString(a) && !(strings.HasPrefix(a, "arn:") && strings.Count(a, ":") >= 5) {
					return nil, p.errorf(p.elemOff(m.val, i), "invalid principal %q: use \"*\", an account id or an IAM ARN", a)
				}
			}
			pr.AWS = vals
		case "Service":
			pr.Service = vals
		case "Federated":
			pr.Federated = vals
		case "CanonicalUser":
			pr.Canonical = vals
		default:
			return nil, p.errorf(m.keyOff, "unknown principal type %q: use AWS, Service, Federated or CanonicalUser", m.key)
		}
	}
	return pr, nil
}

func (p *parser) conditions(v *node) ([]Condition, error) {
	if v.kind != kObject {
		return nil, p.errorf(v.off, "Condition must be an object, not %s", v.kind)
	}
	var out []Condition
	for _, m := range v.members {
		name := m.key
		var set string
		if pre, rest, ok := strings.Cut(name, ":"); ok {
			if pre != "ForAnyValue" && pre != "ForAllValues" {
				return nil, p.errorf(m.keyOff, "unknown condition set operator %q: use ForAnyValue or ForAllValues", pre)
			}
			set, name = pre, rest
		}
		base, ifExists := name, false
		if b, ok := strings.CutSuffix(name, "IfExists"); ok && b != "Null" {
			base, ifExists = b, true
		}
		info, ok := operators[base]
		if !ok {
			return nil, p.errorf(m.keyOff, "unknown condition operator %q", m.key)
		}
		if m.val.kind != kObject {
			return nil, p.errorf(m.val.off, "condition %s must be an object of condition keys, not %s", m.key, m.val.kind)
		}
		for _, km := range m.val.members {
			if !strings.Contains(km.key, ":") {
				return nil, p.errorf(km.keyOff, "condition key %q must be prefaced by a service, as in \"aws:SecureTransport\"", km.key)
			}
			vals, err := p.conditionValues(km.val, km.key)
			if err != nil {
				return nil, err
			}
			for i, x := range vals {
				if err := checkConditionValue(info.family, x); err != "" {
					return nil, p.errorf(p.elemOff(km.val, i), "%s value %q of %s: %s", m.key, x, km.key, err)
				}
			}
			out = append(out, Condition{Operator: m.key, Key: km.key, Values: vals, op: base, set: set, ifExists: ifExists})
		}
	}
	return out, nil
}

// conditionValues reads a condition value: a string, number or boolean, or a
// list of them.
func (p *parser) conditionValues(v *node, key string) ([]string, error) {
	scalar := func(n *node) (string, error) {
		switch n.kind {
		case kString, kNumber, kBool:
			return n.str, nil
		}
		return "", p.errorf(n.off, "value of condition key %s must be a string, number or boolean, not %s", key, n.kind)
	}
	if v.kind != kArray {
		s, err := scalar(v)
		return []string{s}, err
	}
	if len(v.elems) == 0 {
		return nil, p.errorf(v.off, "condition key %s has an empty list of values", key)
	}
	out := make([]string, len(v.elems))
	for i, e := range v.elems {
		s, err := scalar(e)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// checkConditionValue returns why x is not a valid value for the operator
// family, or "".
func checkConditionValue(family, x string) string {
	switch family {
	case "bool", "null":
		if !strings.EqualFold(x, "true") && !strings.EqualFold(x, "false") {
			return "must be true or false"
		}
	case "num":
		if _, err := strconv.ParseFloat(x, 64); err != nil {
			return "must be a number"
		}
	case "date":
		if _, ok := parseDate(x); !ok {
			return "must be an ISO 8601 date or epoch seconds"
		}
	case "ip":
		if _, ok := parsePrefix(x); !ok {
			return "must be an IP address or CIDR block"
		}
	}
	return ""
}

func parseDate(x string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05Z0700", "2006-01-02"} {
		if t, err := time.Parse(layout, x); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(x, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

func parsePrefix(x string) (netip.Prefix, bool) {
	if pr, err := netip.ParsePrefix(x); err == nil {
		return pr.Masked(), true
	}
	if a, err := netip.ParseAddr(x); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}
