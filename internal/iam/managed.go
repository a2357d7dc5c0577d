package iam

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"sort"
	"time"
)

// ManagedPolicy is an AWS managed policy: a policy AWS maintains, attachable
// in every account, whose ARN has the account "aws".
type ManagedPolicy struct {
	Name, Path, Description string
	VersionID               string // the default version
	Document                string
	Created, Updated        time.Time
}

// ARN returns the policy's ARN.
func (m ManagedPolicy) ARN() string { return "arn:aws:iam::aws:policy" + m.Path + m.Name }

// ID returns a stable policy id of the form AWS uses (ANPA + 17 characters).
// AWS's own ids for these policies are not published; these are derived
// from the ARN.
func (m ManagedPolicy) ID() string {
	sum := sha256.Sum256([]byte(m.ARN()))
	return "ANPA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

// Policy returns the parsed document, named by the ARN.
func (m ManagedPolicy) Policy() *Policy {
	p, err := ParseAs(m.Document, Identity)
	if err != nil {
		panic(fmt.Sprintf("managed policy %s: %v", m.Name, err))
	}
	p.Name = m.ARN()
	return p
}

// The AWS managed policies Tarn knows, with the documents of their default
// versions as AWS publishes them.
var managed = []ManagedPolicy{
	{
		Name: "AmazonElasticFileSystemClientReadWriteAccess", Path: "/", VersionID: "v1",
		Description: "Provides read and write client access to an Amazon EFS file system",
		Created:     time.Date(2020, 1, 13, 16, 21, 0, 0, time.UTC), Updated: time.Date(2020, 1, 13, 16, 21, 0, 0, time.UTC),
		Document: `{
  "Version" : "2012-10-17",
  "Statement" : [
    {
      "Effect" : "Allow",
      "Action" : [
        "elasticfilesystem:ClientMount",
        "elasticfilesystem:ClientWrite",
        "elasticfilesystem:DescribeMountTargets"
      ],
      "Resource" : "*"
    }
  ]
}`,
	},
	{
		Name: "AmazonElasticFileSystemClientReadOnlyAccess", Path: "/", VersionID: "v1",
		Description: "Provides read only client access to an Amazon EFS file system",
		Created:     time.Date(2020, 1, 13, 16, 24, 0, 0, time.UTC), Updated: time.Date(2020, 1, 13, 16, 24, 0, 0, time.UTC),
		Document: `{
  "Version" : "2012-10-17",
  "Statement" : [
    {
      "Effect" : "Allow",
      "Action" : [
        "elasticfilesystem:ClientMount",
        "elasticfilesystem:DescribeMountTargets"
      ],
      "Resource" : "*"
    }
  ]
}`,
	},
	{
		Name: "AmazonElasticFileSystemClientFullAccess", Path: "/", VersionID: "v1",
		Description: "Provides root client access to an Amazon EFS file system",
		Created:     time.Date(2020, 1, 13, 16, 27, 0, 0, time.UTC), Updated: time.Date(2020, 1, 13, 16, 27, 0, 0, time.UTC),
		Document: `{
  "Version" : "2012-10-17",
  "Statement" : [
    {
      "Effect" : "Allow",
      "Action" : [
        "elasticfilesystem:ClientMount",
        "elasticfilesystem:ClientRootAccess",
        "elasticfilesystem:ClientWrite",
        "elasticfilesystem:DescribeMountTargets"
      ],
      "Resource" : "*"
    }
  ]
}`,
	},
	{
		Name: "AWSLambdaBasicExecutionRole", Path: "/service-role/", VersionID: "v1",
		Description: "Provides write permissions to CloudWatch Logs.",
		Created:     time.Date(2015, 4, 9, 15, 3, 0, 0, time.UTC), Updated: time.Date(2015, 4, 9, 15, 3, 0, 0, time.UTC),
		Document: `{
  "Version" : "2012-10-17",
  "Statement" : [
    {
      "Effect" : "Allow",
      "Action" : [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents"
      ],
      "Resource" : "*"
    }
  ]
}`,
	},
	{
		Name: "AWSLambdaVPCAccessExecutionRole", Path: "/service-role/", VersionID: "v3",
		Description: "Provides minimum permissions for a Lambda function to execute while accessing a resource within a VPC - create, describe, delete network interfaces and write permissions to CloudWatch Logs. ",
		Created:     time.Date(2016, 2, 11, 23, 15, 0, 0, time.UTC), Updated: time.Date(2024, 1, 5, 22, 38, 0, 0, time.UTC),
		Document: `{
  "Version" : "2012-10-17",
  "Statement" : [
    {
      "Sid" : "AWSLambdaVPCAccessExecutionPermissions",
      "Effect" : "Allow",
      "Action" : [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses"
      ],
      "Resource" : "*"
    }
  ]
}`,
	},
}

var managedByARN = func() map[string]ManagedPolicy {
	m := make(map[string]ManagedPolicy, len(managed))
	for _, p := range managed {
		m[p.ARN()] = p
	}
	return m
}()

// Managed returns the AWS managed policy with the given ARN.
func Managed(arn string) (ManagedPolicy, bool) {
	p, ok := managedByARN[arn]
	return p, ok
}

// ManagedPolicies returns every AWS managed policy Tarn knows, by name.
func ManagedPolicies() []ManagedPolicy {
	out := append([]ManagedPolicy(nil), managed...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// IsAWSManagedARN reports whether arn names an AWS managed policy (known to
// Tarn or not).
func IsAWSManagedARN(arn string) bool {
	return len(arn) > len(awsPolicyPrefix) && arn[:len(awsPolicyPrefix)] == awsPolicyPrefix
}

const awsPolicyPrefix = "arn:aws:iam::aws:policy/"
