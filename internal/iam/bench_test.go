package iam

import "testing"

// BenchmarkClientAccess measures a mount decision: a role with the two
// managed policies Lambda functions use, against a file-system policy with
// a TLS condition.
func BenchmarkClientAccess(b *testing.B) {
	rw, _ := Managed("arn:aws:iam::aws:policy/AmazonElasticFileSystemClientReadWriteAccess")
	vpc, _ := Managed("arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole")
	ids := []*Policy{rw.Policy(), vpc.Policy()}
	fsPolicy, err := Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},
		{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"elasticfilesystem:ClientMount","Condition":{"StringLike":{"elasticfilesystem:AccessPointArn":"arn:aws:elasticfilesystem:*:123456789012:access-point/*"}}}]}`)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		ClientAccess(ids, fsPolicy, "arn:aws:sts::123456789012:assumed-role/fn/fn", fsArn, apArn, true)
	}
}

// BenchmarkParse measures parsing a typical identity policy.
func BenchmarkParse(b *testing.B) {
	doc := managed[4].Document
	for b.Loop() {
		if _, err := ParseAs(doc, Identity); err != nil {
			b.Fatal(err)
		}
	}
}
