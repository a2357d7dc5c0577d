package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// inbound is what the gateway takes from one HTTP request, before any
// payload format is chosen.
type inbound struct {
	method, protocol   string
	rawPath, path      string // as the API sees them: after any /{apiId} prefix, including the stage
	rawQuery           string
	header             map[string][]string // canonical names, as net/http gives them
	host               string              // the Host header
	sourceIP           string
	forwardedPort      string
	body               []byte
	requestID, traceID string
	at                 time.Time
}

// matched is what routing decided.
type matched struct {
	accountID, apiID string
	stage            string
	stageVariables   map[string]string
	routeKey         RouteKey
	pathParameters   map[string]string
}

// textual reports whether a body of this content type travels as plain
// text; everything else (including no content type and form data) is
// base64, as API Gateway does for HTTP APIs.
func textual(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt, _, _ = strings.Cut(contentType, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
	}
	switch mt {
	case "application/json", "application/xml", "application/javascript":
		return true
	}
	return strings.HasPrefix(mt, "text/")
}

// encodeBody returns the body as the event carries it. Text that is not
// valid UTF-8 is base64 too: a JSON string cannot carry it unchanged.
func encodeBody(header map[string][]string, body []byte) (string, bool) {
	if len(body) == 0 {
		return "", false
	}
	if textual(first(header["Content-Type"])) && utf8.Valid(body) {
		return string(body), false
	}
	return base64.StdEncoding.EncodeToString(body), true
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// queryParameters decodes a raw query string into name → values in order
// of appearance. A piece whose escapes are malformed is kept undecoded.
func queryParameters(raw string) (names []string, values map[string][]string) {
	if raw == "" {
		return nil, nil
	}
	values = map[string][]string{}
	for _, piece := range strings.Split(raw, "&") {
		if piece == "" {
			continue
		}
		k, v, _ := strings.Cut(piece, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		if _, seen := values[k]; !seen {
			names = append(names, k)
		}
		values[k] = append(values[k], v)
	}
	return names, values
}

func cookiesOf(header map[string][]string) []string {
	var out []string
	for _, line := range header["Cookie"] {
		for _, c := range strings.Split(line, ";") {
			if c = strings.TrimSpace(c); c != "" {
				out = append(out, c)
			}
		}
	}
	return out
}

// traceHeaders returns the headers the gateway adds: x-forwarded-*, and an
// x-amzn-trace-id unless the client sent one.
func (in *inbound) added() map[string]string {
	xff := in.sourceIP
	if prev := strings.Join(in.header["X-Forwarded-For"], ","); prev != "" {
		xff = prev + ", " + in.sourceIP
	}
	h := map[string]string{"x-forwarded-for": xff, "x-forwarded-port": in.forwardedPort, "x-forwarded-proto": "http"}
	if len(in.header["X-Amzn-Trace-Id"]) == 0 {
		h["x-amzn-trace-id"] = in.traceID
	}
	return h
}

func domainPrefix(host string) string {
	p, _, _ := strings.Cut(host, ".")
	return p
}

func hostName(host string) string {
	if h, _, ok := strings.Cut(host, ":"); ok && !strings.Contains(h, "[") {
		return h
	}
	if strings.HasPrefix(host, "[") {
		if end := strings.IndexByte(host, ']'); end > 0 {
			return host[:end+1]
		}
	}
	return host
}

// Payload format 2.0.

type eventV2 struct {
	Version               string            `json:"version"`
	RouteKey              string            `json:"routeKey"`
	RawPath               string            `json:"rawPath"`
	RawQueryString        string            `json:"rawQueryString"`
	Cookies               []string          `json:"cookies,omitempty"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	PathParameters        map[string]string `json:"pathParameters,omitempty"`
	StageVariables        map[string]string `json:"stageVariables,omitempty"`
	RequestContext        contextV2         `json:"requestContext"`
	Body                  string            `json:"body,omitempty"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
}

type contextV2 struct {
	AccountID    string   `json:"accountId"`
	APIID        string   `json:"apiId"`
	DomainName   string   `json:"domainName"`
	DomainPrefix string   `json:"domainPrefix"`
	HTTP         httpInfo `json:"http"`
	RequestID    string   `json:"requestId"`
	RouteKey     string   `json:"routeKey"`
	Stage        string   `json:"stage"`
	Time         string   `json:"time"`
	TimeEpoch    int64    `json:"timeEpoch"`
}

type httpInfo struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Protocol  string `json:"protocol"`
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

const timeLayout = "02/Jan/2006:15:04:05 -0700"

func eventV2For(in *inbound, m *matched) eventV2 {
	ev := eventV2{
		Version: "2.0", RouteKey: m.routeKey.String(), RawPath: in.rawPath, RawQueryString: in.rawQuery,
		Cookies: cookiesOf(in.header), Headers: make(map[string]string, len(in.header)+5),
		PathParameters: m.pathParameters, StageVariables: m.stageVariables,
	}
	for k, v := range in.header {
		if k == "Cookie" {
			continue
		}
		ev.Headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	if in.host != "" {
		ev.Headers["host"] = in.host
	}
	for k, v := range in.added() {
		ev.Headers[k] = v
	}
	if names, values := queryParameters(in.rawQuery); len(names) > 0 {
		ev.QueryStringParameters = make(map[string]string, len(names))
		for _, k := range names {
			ev.QueryStringParameters[k] = strings.Join(values[k], ",")
		}
	}
	ev.Body, ev.IsBase64Encoded = encodeBody(in.header, in.body)
	domain := hostName(in.host)
	ev.RequestContext = contextV2{
		AccountID: m.accountID, APIID: m.apiID, DomainName: domain, DomainPrefix: domainPrefix(domain),
		HTTP: httpInfo{Method: in.method, Path: in.path, Protocol: in.protocol, SourceIP: in.sourceIP,
			UserAgent: strings.Join(in.header["User-Agent"], ",")},
		RequestID: in.requestID, RouteKey: m.routeKey.String(), Stage: m.stage,
		Time: in.at.UTC().Format(timeLayout), TimeEpoch: in.at.UnixMilli(),
	}
	return ev
}

// Payload format 1.0, the REST API proxy event.

type eventV1 struct {
	Version                         string              `json:"version"`
	Resource                        string              `json:"resource"`
	Path                            string              `json:"path"`
	HTTPMethod                      string              `json:"httpMethod"`
	Headers                         map[string]string   `json:"headers"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
	RequestContext                  contextV1           `json:"requestContext"`
	PathParameters                  map[string]string   `json:"pathParameters"`
	StageVariables                  map[string]string   `json:"stageVariables"`
	Body                            *string             `json:"body"`
	IsBase64Encoded                 bool                `json:"isBase64Encoded"`
}

type contextV1 struct {
	AccountID         string     `json:"accountId"`
	APIID             string     `json:"apiId"`
	DomainName        string     `json:"domainName"`
	DomainPrefix      string     `json:"domainPrefix"`
	ExtendedRequestID string     `json:"extendedRequestId"`
	HTTPMethod        string     `json:"httpMethod"`
	Identity          identityV1 `json:"identity"`
	Path              string     `json:"path"`
	Protocol          string     `json:"protocol"`
	RequestID         string     `json:"requestId"`
	RequestTime       string     `json:"requestTime"`
	RequestTimeEpoch  int64      `json:"requestTimeEpoch"`
	ResourceID        string     `json:"resourceId"`
	ResourcePath      string     `json:"resourcePath"`
	Stage             string     `json:"stage"`
}

type identityV1 struct {
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

func eventV1For(in *inbound, m *matched) eventV1 {
	resource := m.routeKey.Path
	if m.routeKey.IsDefault() {
		resource = DefaultRouteKey
	}
	ev := eventV1{
		Version: "1.0", Resource: resource, Path: in.path, HTTPMethod: in.method,
		Headers: map[string]string{}, MultiValueHeaders: map[string][]string{},
		PathParameters: m.pathParameters, StageVariables: m.stageVariables,
	}
	set := func(k string, v []string) {
		ev.Headers[k] = v[len(v)-1]
		ev.MultiValueHeaders[k] = v
	}
	for k, v := range in.header {
		if len(v) > 0 {
			set(k, v)
		}
	}
	if in.host != "" {
		set("Host", []string{in.host})
	}
	for k, v := range in.added() {
		set(k, []string{v})
	}
	if names, values := queryParameters(in.rawQuery); len(names) > 0 {
		ev.QueryStringParameters = make(map[string]string, len(names))
		ev.MultiValueQueryStringParameters = values
		for _, k := range names {
			ev.QueryStringParameters[k] = values[k][len(values[k])-1]
		}
	}
	if body, b64 := encodeBody(in.header, in.body); len(in.body) > 0 {
		ev.Body, ev.IsBase64Encoded = &body, b64
	}
	domain := hostName(in.host)
	ev.RequestContext = contextV1{
		AccountID: m.accountID, APIID: m.apiID, DomainName: domain, DomainPrefix: domainPrefix(domain),
		ExtendedRequestID: in.requestID, HTTPMethod: in.method,
		Identity: identityV1{SourceIP: in.sourceIP, UserAgent: strings.Join(in.header["User-Agent"], ",")},
		Path:     in.path, Protocol: in.protocol, RequestID: in.requestID,
		RequestTime: in.at.UTC().Format(timeLayout), RequestTimeEpoch: in.at.UnixMilli(),
		ResourceID: m.routeKey.String(), ResourcePath: resource, Stage: m.stage,
	}
	return ev
}

// marshal encodes an event without HTML escaping, so bodies reach the
// function byte for byte as the client sent them.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
