package iam

import (
	"errors"
	"testing"
)

// FuzzParse checks that any document either parses or is refused with a
// *ParseError at a position inside the document, and that parsed policies
// can be evaluated.
func FuzzParse(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`)
	f.Add(EFSDefaultPolicyDocument)
	f.Add(managed[4].Document)
	f.Add(`{"Statement":[{"Effect":"Deny","Principal":{"AWS":["123456789012"]},"NotAction":"a:b","Condition":{"ForAllValues:StringLikeIfExists":{"a:b":["x*",1,true]}}}]}`)
	f.Add("{\n\"Statement\": [}")
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := Parse(doc)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error %v is not a *ParseError", err)
			}
			if pe.Line < 1 || pe.Column < 1 || pe.Line > len(doc)+1 || pe.Column > len(doc)+1 {
				t.Fatalf("Parse error %v is outside the document (%d bytes)", err, len(doc))
			}
			return
		}
		Evaluate(Request{Principal: "arn:aws:iam::123456789012:user/x", Action: "a:b", Resource: "arn:aws:a:::b",
			Context: map[string][]string{"a:b": {"x"}}}, []*Policy{p}, p)
	})
}
