package iam

import (
	"strings"
	"testing"
)

const (
	bob    = "arn:aws:iam::123456789012:user/bob"
	fsArn  = "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-0123456789abcdef0"
	apArn  = "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-0123456789abcdef0"
	apArn2 = "arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-fffffffffffffffff"
)

func mustParse(t *testing.T, name, doc string) *Policy {
	t.Helper()
	p, err := Parse(doc)
	if err != nil {
		t.Fatalf("Parse %s: %v", name, err)
	}
	p.Name = name
	return p
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, value string
		fold, want     bool
	}{
		{"*", "", false, true},
		{"s3:Get*", "s3:GetObject", false, true},
		{"s3:get*", "S3:GETOBJECT", true, true},
		{"s3:get*", "S3:GETOBJECT", false, false},
		{"s3:Get?bject", "s3:GetObject", false, true},
		{"s3:Get?bject", "s3:Getbject", false, false},
		{"a*b*c", "aXXbYYc", false, true},
		{"a*b*c", "aXXbYY", false, false},
		{"*:*", "ec2:Run", false, true},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y", false, true},
		{"abc", "abcd", false, false},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.value, tt.fold); got != tt.want {
			t.Errorf("Match(%q, %q, %v) = %v, want %v", tt.pattern, tt.value, tt.fold, got, tt.want)
		}
	}
}

func TestEvaluate(t *testing.T) {
	allowEFS := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"elasticfilesystem:*","Resource":"*"}}`
	denyDelete := `{"Version":"2012-10-17","Statement":{"Sid":"NoDelete","Effect":"Deny","Action":"elasticfilesystem:Delete*","Resource":"*"}}`
	tests := []struct {
		name     string
		identity []string
		resource string
		req      Request
		allowed  bool
		explicit bool
		by       string // substring of the decision's description
	}{
		{"nothing allows", nil, "", Request{Principal: bob, Action: "elasticfilesystem:CreateFileSystem", Resource: fsArn}, false, false, "implicit deny"},
		{"identity allows by wildcard", []string{allowEFS}, "", Request{Principal: bob, Action: "elasticfilesystem:CreateFileSystem", Resource: fsArn}, true, false, "statement 1"},
		{"action case does not matter", []string{allowEFS}, "", Request{Principal: bob, Action: "ElasticFileSystem:createfilesystem", Resource: fsArn}, true, false, ""},
		{"other service not allowed", []string{allowEFS}, "", Request{Principal: bob, Action: "lambda:CreateFunction", Resource: "*"}, false, false, ""},
		{"explicit deny wins over allow", []string{allowEFS, denyDelete}, "", Request{Principal: bob, Action: "elasticfilesystem:DeleteFileSystem", Resource: fsArn}, false, true, `Sid "NoDelete"`},
		{"deny in resource policy wins over identity allow", []string{allowEFS},
			`{"Statement":{"Effect":"Deny","Principal":"*","Action":"elasticfilesystem:ClientWrite"}}`,
			Request{Principal: bob, Action: "elasticfilesystem:ClientWrite", Resource: fsArn}, false, true, "resource-based"},
		{"resource policy alone allows same account", nil,
			`{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"elasticfilesystem:ClientMount"}}`,
			Request{Principal: bob, Action: "elasticfilesystem:ClientMount", Resource: fsArn}, true, false, "resource-based"},
		{"resource policy for another principal", nil,
			`{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"*"}}`,
			Request{Principal: bob, Action: "elasticfilesystem:ClientMount", Resource: fsArn}, false, false, ""},
		{"cross account needs both", nil,
			`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*"}}`,
			Request{Principal: "arn:aws:iam::999999999999:user/eve", Action: "elasticfilesystem:ClientMount", Resource: fsArn}, false, false, ""},
		{"cross account with both", []string{allowEFS},
			`{"Statement":{"Effect":"Allow","Principal":{"AWS":"999999999999"},"Action":"*"}}`,
			Request{Principal: "arn:aws:iam::999999999999:user/eve", Action: "elasticfilesystem:ClientMount", Resource: fsArn}, true, false, ""},
		{"role principal matches its session", nil,
			`{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/service/fn-role"},"Action":"*"}}`,
			Request{Principal: "arn:aws:sts::123456789012:assumed-role/fn-role/fn", Action: "elasticfilesystem:ClientMount", Resource: fsArn}, true, false, ""},
		{"NotPrincipal", nil,
			`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*"},{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"*"}]}`,
			Request{Principal: bob, Action: "elasticfilesystem:ClientMount", Resource: fsArn}, false, true, "statement 2"},
		{"NotAction allows everything else", []string{`{"Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`}, "",
			Request{Principal: bob, Action: "lambda:Invoke", Resource: "*"}, true, false, ""},
		{"NotAction excludes", []string{`{"Statement":{"Effect":"Allow","NotAction":["iam:*","sts:*"],"Resource":"*"}}`}, "",
			Request{Principal: bob, Action: "iam:CreateUser", Resource: "*"}, false, false, ""},
		{"resource wildcard", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:elasticfilesystem:*:123456789012:file-system/*"}}`}, "",
			Request{Principal: bob, Action: "elasticfilesystem:DescribeFileSystems", Resource: fsArn}, true, false, ""},
		{"resource mismatch", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:elasticfilesystem:*:123456789012:access-point/*"}}`}, "",
			Request{Principal: bob, Action: "elasticfilesystem:DescribeFileSystems", Resource: fsArn}, false, false, ""},
		{"NotResource", []string{`{"Statement":{"Effect":"Allow","Action":"*","NotResource":"arn:aws:iam::*:*"}}`}, "",
			Request{Principal: bob, Action: "elasticfilesystem:DescribeFileSystems", Resource: fsArn}, true, false, ""},
		{"condition holds", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":"bob"}}}}`}, "",
			Request{Principal: bob, Action: "s3:x", Resource: "*", Context: map[string][]string{"aws:username": {"bob"}}}, true, false, ""},
		{"condition key case does not matter", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"AWS:UserName":"bob"}}}}`}, "",
			Request{Principal: bob, Action: "s3:x", Resource: "*", Context: map[string][]string{"aws:username": {"bob"}}}, true, false, ""},
		{"condition fails", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":"bob"}}}}`}, "",
			Request{Principal: bob, Action: "s3:x", Resource: "*", Context: map[string][]string{"aws:username": {"alice"}}}, false, false, ""},
		{"condition key missing", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":"bob"}}}}`}, "",
			Request{Principal: bob, Action: "s3:x", Resource: "*"}, false, false, ""},
		{"IfExists holds when missing", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:username":"bob"}}}}`}, "",
			Request{Principal: bob, Action: "s3:x", Resource: "*"}, true, false, ""},
		{"IfExists tests when present", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:username":"bob"}}}}`}, "",
			Request{Principal: bob, Action: "s3:x", Resource: "*", Context: map[string][]string{"aws:username": {"eve"}}}, false, false, ""},
		{"negated holds when missing", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:username":"bob"}}}}`}, "",
			Request{Principal: bob, Action: "s3:x", Resource: "*"}, true, false, ""},
		{"StringNotLike", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringNotLike":{"aws:username":["b*","a*"]}}}}`}, "",
			Request{Principal: bob, Action: "s3:x", Resource: "*", Context: map[string][]string{"aws:username": {"bob"}}}, false, false, ""},
		{"deny unless secure transport", []string{allowEFS}, `{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}}`,
			Request{Principal: bob, Action: "elasticfilesystem:ClientMount", Resource: fsArn, Context: map[string][]string{"aws:SecureTransport": {"false"}}}, false, true, ""},
		{"secure transport passes", []string{allowEFS}, `{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}}`,
			Request{Principal: bob, Action: "elasticfilesystem:ClientMount", Resource: fsArn, Context: map[string][]string{"aws:SecureTransport": {"true"}}}, true, false, ""},
		{"Bool compares case-insensitively", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true}}}}`}, "",
			Request{Principal: bob, Action: "s3:x", Resource: "*", Context: map[string][]string{"aws:SecureTransport": {"TRUE"}}}, true, false, ""},
		{"ArnLike access point", nil, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"ArnLike":{"elasticfilesystem:AccessPointArn":"arn:aws:elasticfilesystem:*:123456789012:access-point/fsap-0123*"}}}}`,
			Request{Principal: bob, Action: "elasticfilesystem:ClientMount", Resource: fsArn, Context: map[string][]string{KeyAccessPointArn: {apArn}}}, true, false, ""},
		{"ArnEquals other access point", nil, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"ArnEquals":{"elasticfilesystem:AccessPointArn":"` + apArn + `"}}}}`,
			Request{Principal: bob, Action: "elasticfilesystem:ClientMount", Resource: fsArn, Context: map[string][]string{KeyAccessPointArn: {apArn2}}}, false, false, ""},
		{"ArnNotEquals", nil, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"ArnNotEquals":{"elasticfilesystem:AccessPointArn":"` + apArn + `"}}}}`,
			Request{Principal: bob, Action: "elasticfilesystem:ClientMount", Resource: fsArn, Context: map[string][]string{KeyAccessPointArn: {apArn2}}}, true, false, ""},
		{"Null true when missing", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"elasticfilesystem:AccessPointArn":"true"}}}}`}, "",
			Request{Principal: bob, Action: "s3:x", Resource: "*"}, true, false, ""},
		{"Null false when present", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"elasticfilesystem:AccessPointArn":"false"}}}}`}, "",
			Request{Principal: bob, Action: "s3:x", Resource: "*"}, false, false, ""},
		{"ForAllValues", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}}}`}, "",
			Request{Principal: bob, Action: "s3:x", Resource: "*", Context: map[string][]string{"aws:TagKeys": {"a", "c"}}}, false, false, ""},
		{"ForAnyValue", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["a","b"]}}}}`}, "",
			Request{Principal: bob, Action: "s3:x", Resource: "*", Context: map[string][]string{"aws:TagKeys": {"a", "c"}}}, true, false, ""},
		{"NumericLessThan", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"10"}}}}`}, "",
			Request{Principal: bob, Action: "s3:x", Resource: "*", Context: map[string][]string{"s3:max-keys": {"10"}}}, false, false, ""},
		{"IpAddress", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}`}, "",
			Request{Principal: bob, Action: "s3:x", Resource: "*", Context: map[string][]string{"aws:SourceIp": {"10.1.2.3"}}}, true, false, ""},
		{"all conditions must hold", []string{`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"},"StringEquals":{"aws:username":"bob"}}}}`}, "",
			Request{Principal: bob, Action: "s3:x", Resource: "*", Context: map[string][]string{"aws:SecureTransport": {"true"}, "aws:username": {"eve"}}}, false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ids []*Policy
			for i, d := range tt.identity {
				ids = append(ids, mustParse(t, "identity-"+string(rune('A'+i)), d))
			}
			var res *Policy
			if tt.resource != "" {
				res = mustParse(t, "fs-policy", tt.resource)
			}
			d := Evaluate(tt.req, ids, res)
			if d.Allowed != tt.allowed || d.ExplicitDeny != tt.explicit {
				t.Fatalf("Evaluate = %s (allowed %v, explicit deny %v), want allowed %v, explicit deny %v", d, d.Allowed, d.ExplicitDeny, tt.allowed, tt.explicit)
			}
			if !strings.Contains(d.String(), tt.by) {
				t.Errorf("decision %q does not mention %q", d, tt.by)
			}
		})
	}
}

func TestManagedPolicies(t *testing.T) {
	names := map[string]bool{}
	for _, m := range ManagedPolicies() {
		names[m.ARN()] = true
		if _, err := ParseAs(m.Document, Identity); err != nil {
			t.Errorf("%s: %v", m.Name, err)
		}
		if got, ok := Managed(m.ARN()); !ok || got.Name != m.Name {
			t.Errorf("Managed(%q) = %v, %v", m.ARN(), got.Name, ok)
		}
		if !IsAWSManagedARN(m.ARN()) || len(m.ID()) != 21 {
			t.Errorf("%s: ARN %s, ID %s", m.Name, m.ARN(), m.ID())
		}
	}
	for _, arn := range []string{
		"arn:aws:iam::aws:policy/AmazonElasticFileSystemClientReadWriteAccess",
		"arn:aws:iam::aws:policy/AmazonElasticFileSystemClientReadOnlyAccess",
		"arn:aws:iam::aws:policy/AmazonElasticFileSystemClientFullAccess",
		"arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
		"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
	} {
		if !names[arn] {
			t.Errorf("managed policy %s missing", arn)
		}
	}
}

func TestClientAccess(t *testing.T) {
	role := "arn:aws:sts::123456789012:assumed-role/fn-role/fn"
	managedPolicy := func(name string) *Policy {
		m, ok := Managed("arn:aws:iam::aws:policy/" + name)
		if !ok {
			t.Fatalf("no managed policy %s", name)
		}
		return m.Policy()
	}
	rw := managedPolicy("AmazonElasticFileSystemClientReadWriteAccess")
	ro := managedPolicy("AmazonElasticFileSystemClientReadOnlyAccess")
	full := managedPolicy("AmazonElasticFileSystemClientFullAccess")
	vpc := managedPolicy("service-role/AWSLambdaVPCAccessExecutionRole")
	// A common file-system policy: nothing for anyone by default, and TLS
	// required.
	secureOnly := mustParse(t, "fs-policy", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)
	mountOnlyViaAP := mustParse(t, "fs-policy", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"*"},"Action":["elasticfilesystem:ClientMount","elasticfilesystem:ClientWrite"],
		 "Condition":{"StringEquals":{"elasticfilesystem:AccessPointArn":"`+apArn+`"}}}]}`)
	tests := []struct {
		name               string
		identity           []*Policy
		fsPolicy           *Policy
		principal, ap      string
		secure             bool
		mount, write, root bool
	}{
		{"default policy: anyone, everything", nil, nil, "", "", false, true, true, true},
		{"default policy with a role", []*Policy{vpc}, nil, role, apArn, true, true, true, true},
		{"policy set, role without EFS policies", []*Policy{vpc}, secureOnly, role, "", true, false, false, false},
		{"read-write managed policy", []*Policy{vpc, rw}, secureOnly, role, "", true, true, true, false},
		{"read-only managed policy", []*Policy{ro}, secureOnly, role, "", true, true, false, false},
		{"full access managed policy", []*Policy{full}, secureOnly, role, "", true, true, true, true},
		{"full access but no TLS", []*Policy{full}, secureOnly, role, "", false, false, false, false},
		{"account root", nil, secureOnly, "arn:aws:iam::123456789012:root", "", true, true, true, true},
		{"anonymous with a policy set", nil, secureOnly, "", "", true, false, false, false},
		{"through the allowed access point", nil, mountOnlyViaAP, role, apArn, true, true, true, false},
		{"through another access point", nil, mountOnlyViaAP, role, apArn2, true, false, false, false},
		{"without an access point", nil, mountOnlyViaAP, role, "", true, false, false, false},
		{"identity deny of writes", []*Policy{full, mustParse(t, "no-write", `{"Statement":{"Effect":"Deny","Action":"elasticfilesystem:ClientWrite","Resource":"*"}}`)},
			nil, role, "", true, true, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, w, r := ClientAccess(tt.identity, tt.fsPolicy, tt.principal, fsArn, tt.ap, tt.secure)
			if m != tt.mount || w != tt.write || r != tt.root {
				t.Errorf("ClientAccess = mount %v, write %v, root %v; want %v, %v, %v", m, w, r, tt.mount, tt.write, tt.root)
			}
		})
	}
}
