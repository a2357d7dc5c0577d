package iam

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ParseError is a problem in a policy document, located by 1-based line and
// column (columns count bytes).
type ParseError struct {
	Line, Column int
	Msg          string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// node is a JSON value with the byte offset where it starts. encoding/json
// decodes into values that have forgotten where they came from; policy errors
// must point at the member at fault, so the document is read token by token
// into this small tree instead.
type node struct {
	off     int64
	kind    kind
	str     string // string, number (its text) or bool ("true"/"false")
	members []member
	elems   []*node
}

type kind int

const (
	kObject kind = iota
	kArray
	kString
	kNumber
	kBool
	kNull
)

func (k kind) String() string {
	return [...]string{"an object", "an array", "a string", "a number", "a boolean", "null"}[k]
}

type member struct {
	key    string
	keyOff int64
	val    *node
}

// parser reads one document and turns offsets into positions.
type parser struct {
	doc string
	dec *json.Decoder
}

func (p *parser) errorf(off int64, format string, args ...any) *ParseError {
	line, col := 1, 1
	for i := int64(0); i < off && i < int64(len(p.doc)); i++ {
		if p.doc[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return &ParseError{Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// start returns the offset of the next token at or after off.
func (p *parser) start(off int64) int64 {
	for off < int64(len(p.doc)) && strings.IndexByte(" \t\r\n,:", p.doc[off]) >= 0 {
		off++
	}
	return off
}

func parseTree(doc string) (*node, *parser, error) {
	p := &parser{doc: doc, dec: json.NewDecoder(strings.NewReader(doc))}
	p.dec.UseNumber()
	if strings.TrimSpace(doc) == "" {
		return nil, p, p.errorf(0, "policy document is empty")
	}
	// Syntax first: json.Unmarshal reports a consistent offset (just past
	// the offending byte), which the token reader does not.
	var raw json.RawMessage
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			if se.Error() == "unexpected end of JSON input" {
				return nil, p, p.errorf(int64(len(doc)), "JSON syntax error: unexpected end of document")
			}
			return nil, p, p.errorf(max(se.Offset-1, 0), "JSON syntax error: %s", se.Error())
		}
		return nil, p, p.errorf(0, "JSON syntax error: %v", err)
	}
	n, err := p.value()
	if err != nil {
		return nil, p, err
	}
	off := p.start(p.dec.InputOffset())
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, p, p.errorf(off, "unexpected data after the policy document")
	}
	return n, p, nil
}

func (p *parser) token() (json.Token, int64, error) {
	off := p.start(p.dec.InputOffset())
	tok, err := p.dec.Token()
	if err != nil {
		// Unreachable after the syntax check in parseTree, kept for safety.
		return nil, off, p.errorf(off, "JSON syntax error: %v", err)
	}
	return tok, off, nil
}

func (p *parser) value() (*node, error) {
	tok, off, err := p.token()
	if err != nil {
		return nil, err
	}
	n := &node{off: off}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n.kind = kObject
			seen := map[string]bool{}
			for p.dec.More() {
				ktok, koff, err := p.token()
				if err != nil {
					return nil, err
				}
				key, _ := ktok.(string)
				if seen[key] {
					return nil, p.errorf(koff, "duplicate member %q", key)
				}
				seen[key] = true
				v, err := p.value()
				if err != nil {
					return nil, err
				}
				n.members = append(n.members, member{key: key, keyOff: koff, val: v})
			}
		case '[':
			n.kind = kArray
			for p.dec.More() {
				v, err := p.value()
				if err != nil {
					return nil, err
				}
				n.elems = append(n.elems, v)
			}
		}
		if _, _, err := p.token(); err != nil { // the closing delimiter
			return nil, err
		}
	case string:
		n.kind, n.str = kString, t
	case json.Number:
		n.kind, n.str = kNumber, t.String()
	case bool:
		n.kind, n.str = kBool, fmt.Sprint(t)
	case nil:
		n.kind = kNull
	}
	return n, nil
}
