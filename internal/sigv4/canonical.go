package sigv4

import (
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// rawPath returns the escaped request path as the client sent it.
func rawPath(r *http.Request) string {
	p := ""
	if u := r.RequestURI; u != "" && u != "*" {
		p, _, _ = strings.Cut(u, "?")
		if !strings.HasPrefix(p, "/") {
			// Absolute form, "http://host/path": drop the scheme and authority.
			if _, after, ok := strings.Cut(p, "://"); ok {
				p = after
			}
			if i := strings.IndexByte(p, '/'); i >= 0 {
				p = p[i:]
			} else {
				p = ""
			}
		}
	} else if o := r.URL.Opaque; o != "" {
		// In-process request with a pre-escaped "//host/path", as the Go SDK
		// signer documents.
		o, _, _ = strings.Cut(o, "?")
		o = strings.TrimPrefix(o, "//")
		if i := strings.IndexByte(o, '/'); i >= 0 {
			p = o[i:]
		}
	} else {
		p = r.URL.EscapedPath()
	}
	if p == "" {
		p = "/"
	}
	return p
}

// canonicalURIs returns the canonical URI, and botocore's variant with dot
// segments and empty segments removed when that differs.
func canonicalURIs(path string) []string {
	uris := []string{escapePath(path)}
	if n := normalizePath(path); n != path {
		uris = append(uris, escapePath(n))
	}
	return uris
}

// escapePath encodes every byte except the RFC 3986 unreserved characters and
// '/', with upper-case hex, as AWS does for the canonical URI.
func escapePath(p string) string {
	n := 0
	for i := 0; i < len(p); i++ {
		if !unreserved(p[i]) && p[i] != '/' {
			n++
		}
	}
	if n == 0 {
		return p
	}
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(p)+2*n)
	for i := 0; i < len(p); i++ {
		c := p[i]
		if unreserved(c) || c == '/' {
			b = append(b, c)
		} else {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// normalizePath removes "." segments, ".." segments with their parent and
// empty segments, keeping a leading and trailing slash, as botocore does
// before signing.
func normalizePath(p string) string {
	if !strings.Contains(p, "//") && !strings.Contains(p, "/.") {
		return p
	}
	var out []string
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	n := "/" + strings.Join(out, "/")
	if strings.HasSuffix(p, "/") && len(out) > 0 {
		n += "/"
	}
	return n
}

// canonicalQueries returns the canonical query string (decoded, re-encoded,
// sorted), and botocore's raw sorted form when that differs. For presigned
// requests X-Amz-Signature is left out.
func canonicalQueries(raw string, query url.Values, presigned bool) []string {
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(query))
	for k, vs := range query {
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		ek := encodeQuery(k)
		for _, v := range vs {
			pairs = append(pairs, pair{ek, encodeQuery(v)})
		}
	}
	sortPairs := func(ps []pair) {
		slices.SortFunc(ps, func(a, b pair) int {
			if c := strings.Compare(a.k, b.k); c != 0 {
				return c
			}
			return strings.Compare(a.v, b.v)
		})
	}
	join := func(ps []pair) string {
		var b strings.Builder
		for i, p := range ps {
			if i > 0 {
				b.WriteByte('&')
			}
			b.WriteString(p.k)
			b.WriteByte('=')
			b.WriteString(p.v)
		}
		return b.String()
	}
	sortPairs(pairs)
	qs := []string{join(pairs)}
	if raw == "" {
		return qs
	}
	var rawPairs []pair
	for part := range strings.SplitSeq(raw, "&") {
		k, v, _ := strings.Cut(part, "=")
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		rawPairs = append(rawPairs, pair{k, v})
	}
	sortPairs(rawPairs)
	if alt := join(rawPairs); alt != qs[0] {
		qs = append(qs, alt)
	}
	return qs
}

// encodeQuery encodes everything but the unreserved characters, a space as %20.
func encodeQuery(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// canonicalHeaders returns "name:value\n" for each name in the signed list.
func canonicalHeaders(r *http.Request, signed string) string {
	var b strings.Builder
	for name := range strings.SplitSeq(signed, ";") {
		b.WriteString(name)
		b.WriteByte(':')
		switch name {
		case "host":
			h := r.Host
			if h == "" {
				h = r.URL.Host
			}
			b.WriteString(trimAll(h))
		default:
			vals := headerValues(r, name)
			if vals == nil && name == "content-length" && r.ContentLength > 0 {
				vals = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
			for i, v := range vals {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(trimAll(v))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func headerValues(r *http.Request, name string) []string {
	if vs, ok := r.Header[textproto.CanonicalMIMEHeaderKey(name)]; ok {
		return vs
	}
	for k, vs := range r.Header { // keys set without canonicalisation
		if strings.EqualFold(k, name) {
			return vs
		}
	}
	return nil
}

// trimAll trims spaces and tabs at the ends and collapses runs of spaces.
func trimAll(s string) string {
	s = strings.Trim(s, " \t")
	if !strings.Contains(s, "  ") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && i > 0 && s[i-1] == ' ' {
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}
