package iam

import (
	"errors"
	"strings"
	"testing"
)

func TestParseAcceptsAWSGrammar(t *testing.T) {
	docs := map[string]string{
		"statement object": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`,
		"statement list and lists": `{"Version":"2012-10-17","Id":"x","Statement":[
			{"Sid":"A","Effect":"Allow","Action":["ec2:Describe*","logs:*"],"Resource":["arn:aws:logs:*:*:*","*"]},
			{"Sid":"B","Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:iam::123456789012:user/x"}]}`,
		"principals": `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:root","123456789012","*"],"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
		"conditions": `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Condition":{
			"StringEquals":{"aws:username":["a","b"]},"StringLikeIfExists":{"elasticfilesystem:AccessPointArn":"arn:*"},
			"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"s3:max-keys":10},"Null":{"aws:TokenIssueTime":"true"},
			"ForAllValues:StringEquals":{"aws:TagKeys":["a"]},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},
			"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},"ArnNotLike":{"aws:SourceArn":"arn:aws:lambda:*:*:function:x"}}}]}`,
		"managed read write": managed[0].Document,
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse(doc); err != nil {
				t.Fatalf("Parse: %v", err)
			}
		})
	}
}

func TestParseErrorPositions(t *testing.T) {
	tests := []struct {
		name      string
		doc       string
		kind      Kind
		line, col int
		msg       string
	}{
		{"syntax missing comma", "{\n  \"Version\": \"2012-10-17\"\n  \"Statement\": []\n}", AnyKind, 3, 3, "JSON syntax error"},
		{"syntax trailing comma", `{"Statement": [1,]}`, AnyKind, 1, 18, "JSON syntax error"},
		{"unterminated", `{"Statement": [`, AnyKind, 1, 16, "unexpected end"},
		{"empty", "  ", AnyKind, 1, 1, "empty"},
		{"not an object", `["x"]`, AnyKind, 1, 1, "must be a JSON object"},
		{"trailing data", `{"Statement":{"Effect":"Allow","Action":"*"}} x`, AnyKind, 1, 47, "after top-level value"},
		{"unknown top-level key", "{\n \"Version\": \"2012-10-17\",\n \"Statment\": []\n}", AnyKind, 3, 2, `unknown policy element "Statment"`},
		{"bad version", `{"Version":"2012-10-18","Statement":[]}`, AnyKind, 1, 12, "Version must be"},
		{"no statement", `{"Version":"2012-10-17"}`, AnyKind, 1, 1, "no Statement"},
		{"bad effect", "{\"Statement\": [\n  {\"Effect\": \"allow\", \"Action\": \"*\"}\n]}", AnyKind, 2, 14, `Effect must be "Allow" or "Deny"`},
		{"action number", "{\"Statement\": {\"Effect\": \"Allow\",\n\"Action\": 5}}", AnyKind, 2, 11, "Action must be a string or a list of strings"},
		{"action list element", "{\"Statement\": {\"Effect\": \"Allow\",\n\"Action\": [\"s3:Get\", true]}}", AnyKind, 2, 22, "this element is a boolean"},
		{"action without service", "{\"Statement\": {\"Effect\": \"Allow\",\n\"Action\": [\"s3:Get\", \"Get\"]}}", AnyKind, 2, 22, "prefaced by a service"},
		{"resource not arn", "{\"Statement\": {\"Effect\": \"Allow\", \"Action\":\"*\",\n  \"Resource\": \"bucket\"}}", AnyKind, 2, 15, "ARN format"},
		{"bad condition operator", "{\"Statement\": {\"Effect\": \"Allow\", \"Action\":\"*\",\n \"Condition\": {\n   \"StringEqual\": {\"aws:username\": \"x\"}}}}", AnyKind, 3, 4, `unknown condition operator "StringEqual"`},
		{"bad bool value", "{\"Statement\": {\"Effect\": \"Allow\", \"Action\":\"*\",\n \"Condition\": {\"Bool\": {\"aws:SecureTransport\": \"yes\"}}}}", AnyKind, 2, 48, "must be true or false"},
		{"condition key without service", `{"Statement": {"Effect": "Allow", "Action":"*", "Condition": {"Bool": {"SecureTransport": "true"}}}}`, AnyKind, 1, 72, "prefaced by a service"},
		{"both action kinds", `{"Statement": {"Effect": "Allow", "Action":"*", "NotAction":"*"}}`, AnyKind, 1, 49, "not both"},
		{"no action", "{\"Statement\": [\n {\"Effect\": \"Allow\"}]}", AnyKind, 2, 2, "no Action"},
		{"duplicate member", `{"Statement": {"Effect": "Allow", "Effect": "Deny", "Action":"*"}}`, AnyKind, 1, 35, "duplicate member"},
		{"unknown statement element", `{"Statement": {"Effect": "Allow", "Actions":"*"}}`, AnyKind, 1, 35, `unknown statement element "Actions"`},
		{"bad principal", `{"Statement": {"Effect": "Allow", "Action":"*", "Principal": {"AWS": "bob"}}}`, AnyKind, 1, 70, `invalid principal "bob"`},
		{"duplicate sid", "{\"Statement\": [{\"Sid\":\"a\",\"Effect\": \"Allow\", \"Action\":\"*\"},\n {\"Sid\":\"a\",\"Effect\": \"Allow\", \"Action\":\"*\"}]}", AnyKind, 2, 2, "must be unique"},
		{"identity with principal", `{"Statement": {"Effect": "Allow", "Action":"*", "Resource":"*", "Principal":"*"}}`, Identity, 1, 15, "must not specify a Principal"},
		{"identity without resource", `{"Statement": {"Effect": "Allow", "Action":"*"}}`, Identity, 1, 15, "no Resource"},
		{"resource without principal", `{"Statement": {"Effect": "Allow", "Action":"*"}}`, Resource, 1, 15, "no Principal"},
		{"trust with resource", `{"Statement": {"Effect": "Allow", "Action":"sts:AssumeRole", "Principal":"*", "Resource":"*"}}`, Trust, 1, 15, "must not specify a Resource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAs(tt.doc, tt.kind)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseAs = %v, want a *ParseError", err)
			}
			if pe.Line != tt.line || pe.Column != tt.col || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("ParseAs error = %v, want line %d, column %d: …%s…", err, tt.line, tt.col, tt.msg)
			}
		})
	}
}
