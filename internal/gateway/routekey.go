package gateway

import (
	"fmt"
	"strings"
)

// Methods a route key may name besides ANY.
var routeMethods = map[string]bool{
	"GET": true, "POST": true, "PUT": true, "DELETE": true, "PATCH": true, "HEAD": true, "OPTIONS": true, "ANY": true,
}

// DefaultRouteKey is the catch-all route.
const DefaultRouteKey = "$default"

// segment kinds, in order of increasing specificity.
const (
	segGreedy = iota // {name+}: the rest of the path, one segment or more
	segParam         // {name}: one non-empty segment
	segLiteral
)

type segment struct {
	kind int
	text string // the literal, or the parameter name
}

// RouteKey is a parsed route key: "$default", or a method (or ANY) and a
// path whose segments are literals, {name} parameters, or a final greedy
// {name+}.
type RouteKey struct {
	Method string // "" for $default
	Path   string
	segs   []segment
}

// IsDefault reports whether k is the $default route.
func (k RouteKey) IsDefault() bool { return k.Method == "" }

// String returns the route key as written.
func (k RouteKey) String() string {
	if k.IsDefault() {
		return DefaultRouteKey
	}
	return k.Method + " " + k.Path
}

// ParseRouteKey parses and validates a route key such as "ANY /MessageWall",
// "GET /items/{id}", "ANY /{proxy+}" or "$default".
func ParseRouteKey(s string) (RouteKey, error) {
	if s == DefaultRouteKey {
		return RouteKey{}, nil
	}
	method, path, ok := strings.Cut(s, " ")
	if !ok {
		return RouteKey{}, fmt.Errorf("route key %q: want $default or METHOD /path, e.g. 'GET /items/{id}'", s)
	}
	if !routeMethods[method] {
		return RouteKey{}, fmt.Errorf("route key %q: method %q is not one of GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS, ANY", s, method)
	}
	if !strings.HasPrefix(path, "/") {
		return RouteKey{}, fmt.Errorf("route key %q: the path must start with /", s)
	}
	k := RouteKey{Method: method, Path: path}
	if path == "/" {
		return k, nil
	}
	names := map[string]bool{}
	parts := strings.Split(path[1:], "/")
	for n, p := range parts {
		switch {
		case p == "":
			return RouteKey{}, fmt.Errorf("route key %q: empty path segment", s)
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"):
			name := p[1 : len(p)-1]
			kind := segParam
			if strings.HasSuffix(name, "+") {
				if n != len(parts)-1 {
					return RouteKey{}, fmt.Errorf("route key %q: a greedy path variable {%s} must be the last segment", s, name)
				}
				name, kind = name[:len(name)-1], segGreedy
			}
			if !validParamName(name) {
				return RouteKey{}, fmt.Errorf("route key %q: path variable name %q must be letters, digits, '_', '-', '.' or ':'", s, name)
			}
			if names[name] {
				return RouteKey{}, fmt.Errorf("route key %q: path variable {%s} appears twice", s, name)
			}
			names[name] = true
			k.segs = append(k.segs, segment{kind: kind, text: name})
		case strings.ContainsAny(p, "{}"):
			return RouteKey{}, fmt.Errorf("route key %q: segment %q: a path variable must be a whole segment, {name} or {name+}", s, p)
		default:
			k.segs = append(k.segs, segment{kind: segLiteral, text: p})
		}
	}
	return k, nil
}

func validParamName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_-.:", c)) {
			return false
		}
	}
	return true
}

// match reports whether k takes a request for method and the decoded path
// segments, and returns its path parameters.
func (k RouteKey) match(method string, segs []string) (map[string]string, bool) {
	if k.IsDefault() {
		return nil, true
	}
	if k.Method != "ANY" && k.Method != method {
		return nil, false
	}
	var params map[string]string
	for n, s := range k.segs {
		if s.kind == segGreedy {
			rest := segs[n:]
			if len(rest) == 0 || (len(rest) == 1 && rest[0] == "") {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[s.text] = strings.Join(rest, "/")
			return params, true
		}
		if n >= len(segs) {
			return nil, false
		}
		switch s.kind {
		case segLiteral:
			if segs[n] != s.text {
				return nil, false
			}
		case segParam:
			if segs[n] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[s.text] = segs[n]
		}
	}
	return params, len(segs) == len(k.segs)
}

// tier orders routes as API Gateway prefers them: the request's own method
// without a greedy variable, then its method with one, then ANY (without,
// then with), then $default.
func (k RouteKey) tier() int {
	if k.IsDefault() {
		return 4
	}
	t := 0
	if k.Method == "ANY" {
		t = 2
	}
	if n := len(k.segs); n > 0 && k.segs[n-1].kind == segGreedy {
		t++
	}
	return t
}

// moreSpecific reports whether a should win over b when both match a
// request: the lower tier wins; within a tier, the first segment where they
// differ decides (a literal beats a variable, a variable beats a greedy
// one), then the longer key, then the key text, so the choice never
// depends on the order routes were created.
func moreSpecific(a, b RouteKey) bool {
	if ta, tb := a.tier(), b.tier(); ta != tb {
		return ta < tb
	}
	for n := 0; n < len(a.segs) && n < len(b.segs); n++ {
		if a.segs[n].kind != b.segs[n].kind {
			return a.segs[n].kind > b.segs[n].kind
		}
	}
	if len(a.segs) != len(b.segs) {
		return len(a.segs) > len(b.segs)
	}
	return a.String() < b.String()
}
