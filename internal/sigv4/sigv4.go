package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// AWS error codes returned in Error.Code.
const (
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	CodeIncompleteSignature        = "IncompleteSignatureException"
	CodeUnrecognizedClient         = "UnrecognizedClientException"
	CodeInvalidSignature           = "InvalidSignatureException"
)

const (
	algorithm       = "AWS4-HMAC-SHA256"
	terminator      = "aws4_request"
	timeFormat      = "20060102T150405Z"
	unsignedPayload = "UNSIGNED-PAYLOAD"
	defaultSkew     = 15 * time.Minute
	maxExpires      = 7 * 24 * 60 * 60 // a week, in seconds, as AWS

	msgMissingToken    = "Missing Authentication Token"
	msgUnknownKey      = "The security token included in the request is invalid."
	msgBadSignature    = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgPayloadHash     = "The provided 'x-amz-content-sha256' header does not match what was computed."
	msgQueryIncomplete = "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."
)

// Verifier checks SigV4 signatures of incoming requests. The zero value
// knows no access keys; set Secret. A Verifier is safe for concurrent use.
type Verifier struct {
	// Secret returns the secret key for an access key id, or ok=false when the id is unknown.
	Secret func(accessKeyID string) (secret string, ok bool)
	Now    func() time.Time // nil = time.Now
	// MaxSkew is how far the request date may be from Now. 0 = 15 minutes, as AWS.
	MaxSkew time.Duration
	// AllowUnsignedPayload accepts "X-Amz-Content-Sha256: UNSIGNED-PAYLOAD" on
	// header-signed requests (the body is then not covered by the signature).
	// Presigned URLs always accept it.
	AllowUnsignedPayload bool
}

// Identity is what a valid signature proves.
type Identity struct {
	AccessKeyID, Region, Service string
	SignedAt                     time.Time
	// Presigned is set when the signature came in the query string.
	Presigned bool
	// UnsignedPayload is set when the signature does not cover the body.
	UnsignedPayload bool
}

// Error is a verification failure with its AWS error code; every error Verify
// returns is an *Error. AWS sends all of them with HTTP status 403.
type Error struct {
	Code, Message string
}

func (e *Error) Error() string { return "sigv4: " + e.Code + ": " + e.Message }

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// auth is the parsed signature information of one request.
type auth struct {
	accessKeyID   string
	scopeDate     string // yyyymmdd from the credential
	region        string
	service       string
	signedHeaders string // exactly as sent
	signature     string
	amzDate       string // yyyymmddThhmmssZ
	signedAt      time.Time
	presigned     bool
	expires       int // seconds; 0 when absent
}

func (a *auth) scope() string {
	return a.scopeDate + "/" + a.region + "/" + a.service + "/" + terminator
}

// Verify checks r, whose body has already been read into body (r.Body is not read).
func (v *Verifier) Verify(r *http.Request, body []byte) (Identity, error) {
	query, _ := url.ParseQuery(r.URL.RawQuery) // malformed pairs are skipped, as by the SDK signer
	a, err := parseAuth(r, query)
	if err != nil {
		return Identity{}, err
	}
	if err := v.checkTime(a); err != nil {
		return Identity{}, err
	}
	var secret string
	ok := false
	if v.Secret != nil {
		secret, ok = v.Secret(a.accessKeyID)
	}
	if !ok {
		return Identity{}, &Error{Code: CodeUnrecognizedClient, Message: msgUnknownKey}
	}

	payloads, err := v.payloadHashes(r, a, body)
	if err != nil {
		return Identity{}, err
	}
	headers := canonicalHeaders(r, a.signedHeaders)
	paths := canonicalURIs(rawPath(r))
	queries := canonicalQueries(r.URL.RawQuery, query, a.presigned)

	key := signingKey(secret, a.scopeDate, a.region, a.service)
	scope := a.scope()
	given := []byte(a.signature)
	for _, p := range payloads {
		for _, path := range paths {
			for _, q := range queries {
				creq := r.Method + "\n" + path + "\n" + q + "\n" + headers + "\n" + a.signedHeaders + "\n" + p
				if hmac.Equal(signature(key, a.amzDate, scope, creq), given) {
					return Identity{
						AccessKeyID:     a.accessKeyID,
						Region:          a.region,
						Service:         a.service,
						SignedAt:        a.signedAt,
						Presigned:       a.presigned,
						UnsignedPayload: p == unsignedPayload,
					}, nil
				}
			}
		}
	}
	return Identity{}, &Error{Code: CodeInvalidSignature, Message: msgBadSignature}
}

// parseAuth reads the signature parameters from the Authorization header or
// the presigned query.
func parseAuth(r *http.Request, query url.Values) (*auth, error) {
	header := r.Header.Get("Authorization")
	presigned := query.Has("X-Amz-Algorithm") || query.Has("X-Amz-Credential") || query.Has("X-Amz-Signature")
	switch {
	case header == "" && !presigned:
		return nil, &Error{Code: CodeMissingAuthenticationToken, Message: msgMissingToken}
	case header != "" && presigned:
		return nil, &Error{Code: CodeIncompleteSignature, Message: "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified"}
	case presigned:
		return parseQueryAuth(query)
	}
	return parseHeaderAuth(r, header)
}

func parseHeaderAuth(r *http.Request, header string) (*auth, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(header), " ")
	var credential, signedHeaders, sig string
	var haveCred, haveSigned, haveSig bool
	if alg == algorithm {
		for part := range strings.SplitSeq(rest, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			k, val, ok := strings.Cut(part, "=")
			if !ok {
				return nil, errorf(CodeIncompleteSignature, "'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", part, header)
			}
			switch k {
			case "Credential":
				credential, haveCred = val, true
			case "SignedHeaders":
				signedHeaders, haveSigned = val, true
			case "Signature":
				sig, haveSig = val, true
			}
		}
	} else if strings.HasPrefix(alg, "AWS4-") {
		return nil, errorf(CodeIncompleteSignature, "Unsupported AWS 'algorithm': '%s'. Only '%s' is supported.", alg, algorithm)
	}

	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" {
		if d := r.Header.Get("Date"); d != "" {
			t, err := parseHTTPDate(d)
			if err != nil {
				return nil, errorf(CodeIncompleteSignature, "Date must be in RFC 1123 format. Got '%s'.", d)
			}
			amzDate = t.UTC().Format(timeFormat)
		}
	}
	var missing strings.Builder
	for _, m := range []struct {
		have bool
		text string
	}{
		{haveCred, "Authorization header requires 'Credential' parameter. "},
		{haveSig, "Authorization header requires 'Signature' parameter. "},
		{haveSigned, "Authorization header requires 'SignedHeaders' parameter. "},
		{amzDate != "", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "},
	} {
		if !m.have {
			missing.WriteString(m.text)
		}
	}
	if missing.Len() > 0 {
		return nil, errorf(CodeIncompleteSignature, "%sAuthorization=%s", missing.String(), header)
	}

	a := &auth{signedHeaders: signedHeaders, signature: sig}
	if err := a.setCredential(credential); err != nil {
		return nil, err
	}
	if err := a.setDate(amzDate); err != nil {
		return nil, err
	}
	if err := checkSignedHeaders(signedHeaders); err != nil {
		return nil, err
	}
	if r.Header.Get("X-Amz-Security-Token") != "" && !listHas(signedHeaders, "x-amz-security-token") {
		return nil, errorf(CodeIncompleteSignature, "'X-Amz-Security-Token' must be a signed header. Authorization=%s", header)
	}
	return a, nil
}

func parseQueryAuth(query url.Values) (*auth, error) {
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders"} {
		if query.Get(k) == "" {
			return nil, &Error{Code: CodeIncompleteSignature, Message: msgQueryIncomplete}
		}
	}
	if alg := query.Get("X-Amz-Algorithm"); alg != algorithm {
		return nil, errorf(CodeIncompleteSignature, "Unsupported AWS 'algorithm': '%s'. Only '%s' is supported.", alg, algorithm)
	}
	a := &auth{
		signedHeaders: query.Get("X-Amz-SignedHeaders"),
		signature:     query.Get("X-Amz-Signature"),
		presigned:     true,
	}
	if err := a.setCredential(query.Get("X-Amz-Credential")); err != nil {
		return nil, err
	}
	if err := a.setDate(query.Get("X-Amz-Date")); err != nil {
		return nil, err
	}
	if err := checkSignedHeaders(a.signedHeaders); err != nil {
		return nil, err
	}
	if query.Has("X-Amz-Expires") {
		s := query.Get("X-Amz-Expires")
		n, err := strconv.Atoi(s)
		switch {
		case err != nil || n < 0:
			return nil, errorf(CodeIncompleteSignature, "X-Amz-Expires should be a number of seconds, not '%s'.", s)
		case n == 0:
			return nil, errorf(CodeIncompleteSignature, "X-Amz-Expires must be non-negative and not zero.")
		case n > maxExpires:
			return nil, errorf(CodeIncompleteSignature, "X-Amz-Expires must be less than a week (in seconds) that is %d", maxExpires)
		}
		a.expires = n
	}
	return a, nil
}

// setCredential parses "AKID/yyyymmdd/region/service/aws4_request".
func (a *auth) setCredential(c string) error {
	parts := strings.Split(c, "/")
	if len(parts) != 5 || parts[0] == "" {
		return errorf(CodeIncompleteSignature, "Credential '%s' is malformed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".", c)
	}
	if !isDate(parts[1]) {
		return errorf(CodeIncompleteSignature, "Credential should be scoped to a valid date in YYYYMMDD format, not '%s'.", parts[1])
	}
	if parts[2] == "" {
		return errorf(CodeIncompleteSignature, "Credential should be scoped to a valid region, not ''.")
	}
	if parts[3] == "" {
		return errorf(CodeIncompleteSignature, "Credential should be scoped to a valid service, not ''.")
	}
	if parts[4] != terminator {
		return errorf(CodeIncompleteSignature, "Credential should be scoped with a valid terminator: '%s', not '%s'.", terminator, parts[4])
	}
	a.accessKeyID, a.scopeDate, a.region, a.service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

// setDate parses the ISO 8601 basic request date and checks it against the
// credential scope, which setCredential has already filled in.
func (a *auth) setDate(d string) error {
	t, err := time.Parse(timeFormat, d)
	if err != nil || len(d) != len(timeFormat) {
		return errorf(CodeIncompleteSignature, "Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", d)
	}
	if d[:8] != a.scopeDate {
		return errorf(CodeInvalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", a.scopeDate, d[:8], d)
	}
	a.amzDate, a.signedAt = d, t
	return nil
}

// parseHTTPDate parses a Date header: the HTTP formats, and RFC 1123 with a
// numeric zone as botocore writes it ("Thu, 26 Nov 2026 12:46:47 -0000").
func parseHTTPDate(d string) (time.Time, error) {
	t, err := http.ParseTime(d)
	if err != nil {
		t, err = time.Parse(time.RFC1123Z, d)
	}
	return t, err
}

func isDate(s string) bool {
	if len(s) != 8 {
		return false
	}
	_, err := time.Parse("20060102", s)
	return err == nil
}

func checkSignedHeaders(list string) error {
	if !listHas(list, "host") {
		return errorf(CodeIncompleteSignature, "'Host' must be a signed header. SignedHeaders=%s", list)
	}
	return nil
}

// listHas reports whether the ;-separated list holds name.
func listHas(list, name string) bool {
	for h := range strings.SplitSeq(list, ";") {
		if h == name {
			return true
		}
	}
	return false
}

func (v *Verifier) checkTime(a *auth) error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	n := now().UTC().Truncate(time.Second)
	skew := v.MaxSkew
	if skew <= 0 {
		skew = defaultSkew
	}
	mins := strconv.FormatFloat(skew.Minutes(), 'f', -1, 64)
	if a.signedAt.Sub(n) > skew {
		return errorf(CodeInvalidSignature, "Signature not yet current: %s is still later than %s (%s + %s min.)",
			a.amzDate, n.Add(skew).Format(timeFormat), n.Format(timeFormat), mins)
	}
	if a.presigned && a.expires > 0 {
		end := a.signedAt.Add(time.Duration(a.expires) * time.Second)
		if n.After(end) {
			return errorf(CodeInvalidSignature, "Signature expired: %s is now earlier than %s (%s + %d sec.)",
				end.Format(timeFormat), n.Format(timeFormat), a.amzDate, a.expires)
		}
		return nil
	}
	if n.Sub(a.signedAt) > skew {
		return errorf(CodeInvalidSignature, "Signature expired: %s is now earlier than %s (%s - %s min.)",
			a.amzDate, n.Add(-skew).Format(timeFormat), n.Format(timeFormat), mins)
	}
	return nil
}

// payloadHashes returns the payload hashes to try, in order.
func (v *Verifier) payloadHashes(r *http.Request, a *auth, body []byte) ([]string, error) {
	h := r.Header.Get("X-Amz-Content-Sha256")
	switch {
	case h == unsignedPayload:
		if !a.presigned && !v.AllowUnsignedPayload {
			return nil, errorf(CodeInvalidSignature, "x-amz-content-sha256 '%s' is not accepted by this service; sign the payload.", h)
		}
		return []string{h}, nil
	case h != "":
		if len(h) != sha256.Size*2 {
			return nil, errorf(CodeInvalidSignature, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value.")
		}
		if sum := bodyHash(body); !strings.EqualFold(h, sum) {
			return nil, &Error{Code: CodeInvalidSignature, Message: msgPayloadHash}
		}
		return []string{h}, nil
	case a.presigned:
		return []string{unsignedPayload, bodyHash(body)}, nil
	}
	return []string{bodyHash(body)}, nil
}

func bodyHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, terminator)
}

// signature returns the lower-case hex signature of the canonical request.
func signature(key []byte, amzDate, scope, canonicalRequest string) []byte {
	sum := sha256.Sum256([]byte(canonicalRequest))
	var hexSum [sha256.Size * 2]byte
	hex.Encode(hexSum[:], sum[:])
	sts := algorithm + "\n" + amzDate + "\n" + scope + "\n" + string(hexSum[:])
	mac := hmacSHA256(key, sts)
	out := make([]byte, hex.EncodedLen(len(mac)))
	hex.Encode(out, mac)
	return out
}
