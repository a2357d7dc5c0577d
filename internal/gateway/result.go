package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// response is an HTTP response the gateway will send.
type response struct {
	status int
	header http.Header
	body   []byte
}

// errBadResult: the function's result cannot be turned into a response.
var errBadResult = errors.New("bad function result")

func badResult(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadResult, fmt.Sprintf(format, args...))
}

// mapResultV2 turns a function's result into a response as payload format
// 2.0 does: a JSON object with statusCode describes the response; a JSON
// string is the body as-is; any other JSON is a JSON body; anything else is
// an error.
func mapResultV2(result []byte) (*response, error) {
	result = bytes.TrimSpace(result)
	if !json.Valid(result) {
		return nil, badResult("not valid JSON")
	}
	if result[0] == '{' {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(result, &obj); err != nil {
			return nil, badResult("%v", err)
		}
		if _, ok := obj["statusCode"]; ok {
			return structured(obj)
		}
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if result[0] == '"' {
		var s string
		if err := json.Unmarshal(result, &s); err != nil {
			return nil, badResult("%v", err)
		}
		return &response{status: http.StatusOK, header: h, body: []byte(s)}, nil
	}
	return &response{status: http.StatusOK, header: h, body: result}, nil
}

// mapResultV1 turns a function's result into a response as payload format
// 1.0 does: only an object with statusCode is a valid answer.
func mapResultV1(result []byte) (*response, error) {
	result = bytes.TrimSpace(result)
	var obj map[string]json.RawMessage
	if len(result) == 0 || result[0] != '{' || json.Unmarshal(result, &obj) != nil {
		return nil, badResult("payload format 1.0 needs a JSON object with statusCode")
	}
	if _, ok := obj["statusCode"]; !ok {
		return nil, badResult("payload format 1.0 needs a JSON object with statusCode")
	}
	return structured(obj)
}

// structured builds the response an object with statusCode describes.
func structured(obj map[string]json.RawMessage) (*response, error) {
	var status int
	if err := json.Unmarshal(obj["statusCode"], &status); err != nil || status < 200 || status > 599 {
		return nil, badResult("statusCode %s is not an integer from 200 to 599", obj["statusCode"])
	}
	resp := &response{status: status, header: http.Header{}}
	var multi map[string][]json.RawMessage
	if raw, ok := obj["multiValueHeaders"]; ok {
		if err := json.Unmarshal(raw, &multi); err != nil {
			return nil, badResult("multiValueHeaders: want an object of arrays of strings")
		}
	}
	for name, values := range multi {
		if !validHeaderName(name) {
			return nil, badResult("multiValueHeaders: invalid header name %q", name)
		}
		for _, raw := range values {
			v, err := headerValue(raw)
			if err != nil {
				return nil, badResult("multiValueHeaders[%q]: %v", name, err)
			}
			resp.header.Add(name, v)
		}
	}
	var single map[string]json.RawMessage
	if raw, ok := obj["headers"]; ok {
		if err := json.Unmarshal(raw, &single); err != nil {
			return nil, badResult("headers: want an object of strings")
		}
	}
	for name, raw := range single {
		if !validHeaderName(name) {
			return nil, badResult("headers: invalid header name %q", name)
		}
		v, err := headerValue(raw)
		if err != nil {
			return nil, badResult("headers[%q]: %v", name, err)
		}
		if _, dup := multi[name]; dup {
			continue // multiValueHeaders wins for a name given in both
		}
		if string(raw) != "null" {
			resp.header.Set(name, v)
		}
	}
	var cookies []string
	if raw, ok := obj["cookies"]; ok {
		if err := json.Unmarshal(raw, &cookies); err != nil {
			return nil, badResult("cookies: want an array of strings")
		}
	}
	for _, c := range cookies {
		if !validHeaderValue(c) {
			return nil, badResult("cookies: invalid cookie %q", c)
		}
		resp.header.Add("Set-Cookie", c)
	}
	var body *string
	if raw, ok := obj["body"]; ok {
		if err := json.Unmarshal(raw, &body); err != nil {
			return nil, badResult("body: want a string")
		}
	}
	var b64 *bool
	if raw, ok := obj["isBase64Encoded"]; ok {
		if err := json.Unmarshal(raw, &b64); err != nil {
			return nil, badResult("isBase64Encoded: want true or false")
		}
	}
	if body != nil {
		resp.body = []byte(*body)
		if b64 != nil && *b64 {
			dec, err := base64.StdEncoding.DecodeString(*body)
			if err != nil {
				return nil, badResult("body: isBase64Encoded but %v", err)
			}
			resp.body = dec
		}
	}
	return resp, nil
}

// headerValue accepts a JSON string, number or boolean (as its text) or
// null (as "").
func headerValue(raw json.RawMessage) (string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	var s string
	switch x := v.(type) {
	case nil:
	case string:
		s = x
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		s = strconv.FormatBool(x)
	default:
		return "", fmt.Errorf("want a string, got %s", raw)
	}
	if !validHeaderValue(s) {
		return "", fmt.Errorf("invalid header value %q", s)
	}
	return s, nil
}

// validHeaderName reports whether s is an RFC 9110 token. Written here
// because net/http keeps its check internal.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		switch c {
		case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
			continue
		}
		return false
	}
	return true
}

// validHeaderValue rejects control characters other than tab, which would
// split or corrupt the response.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
