package e2e

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/efs/types"
	"github.com/aws/smithy-go"
)

// wantAPIError checks that err is the AWS error with the given code.
func wantAPIError(t *testing.T, what string, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Errorf("%s: err = %v, want API error %s", what, err, code)
		return
	}
	if ae.ErrorCode() != code {
		t.Errorf("%s: error code %s (%s), want %s", what, ae.ErrorCode(), ae.ErrorMessage(), code)
	}
}

func sdkTags(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// allFileSystems lists every file system with the paginator, pageSize at a
// time, and returns them with the number of pages.
func allFileSystems(ctx context.Context, c *efs.Client, pageSize int32) ([]types.FileSystemDescription, int, error) {
	var all []types.FileSystemDescription
	pages := 0
	p := efs.NewDescribeFileSystemsPaginator(c, &efs.DescribeFileSystemsInput{MaxItems: aws.Int32(pageSize)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, pages, err
		}
		pages++
		all = append(all, out.FileSystems...)
	}
	return all, pages, nil
}

// TestGoSDKDrivesTheWholeEFSAPI runs the story with the AWS SDK for Go v2,
// whose typed errors and paginators the tarn CLI itself relies on.
func TestGoSDKDrivesTheWholeEFSAPI(t *testing.T) {
	t.Parallel()
	s := startServer(t, newDataDir(t))
	ctx := context.Background()
	c := s.sdk()

	created, err := c.CreateFileSystem(ctx, &efs.CreateFileSystemInput{
		CreationToken:                aws.String("sdk-main"),
		ThroughputMode:               types.ThroughputModeProvisioned,
		ProvisionedThroughputInMibps: aws.Float64(32),
		Encrypted:                    aws.Bool(true),
		Tags:                         []types.Tag{{Key: aws.String("Name"), Value: aws.String("sdk")}},
	})
	if err != nil {
		t.Fatalf("CreateFileSystem: %v", err)
	}
	id := aws.ToString(created.FileSystemId)
	if !fsIDPattern.MatchString(id) || aws.ToString(created.FileSystemArn) != s.fsArn(id) ||
		aws.ToString(created.OwnerId) != s.AccountID || aws.ToString(created.Name) != "sdk" ||
		created.LifeCycleState != types.LifeCycleStateCreating || created.SizeInBytes == nil ||
		created.SizeInBytes.Value != 6144 || !aws.ToBool(created.Encrypted) ||
		aws.ToFloat64(created.ProvisionedThroughputInMibps) != 32 || created.CreationTime == nil {
		t.Fatalf("CreateFileSystem = %+v", created)
	}

	_, err = c.CreateFileSystem(ctx, &efs.CreateFileSystemInput{CreationToken: aws.String("sdk-main")})
	var exists *types.FileSystemAlreadyExists
	if !errors.As(err, &exists) || aws.ToString(exists.FileSystemId) != id {
		t.Errorf("CreateFileSystem with a used token: %v, want FileSystemAlreadyExists naming %s", err, id)
	}
	_, err = c.CreateFileSystem(ctx, &efs.CreateFileSystemInput{CreationToken: aws.String(strings.Repeat("x", 65))})
	wantAPIError(t, "CreateFileSystem with a 65-character token", err, "ValidationException")
	for i := 2; i <= 5; i++ {
		if _, err := c.CreateFileSystem(ctx, &efs.CreateFileSystemInput{CreationToken: aws.String(fmt.Sprintf("sdk-%d", i))}); err != nil {
			t.Fatalf("CreateFileSystem sdk-%d: %v", i, err)
		}
	}

	// Lookups and the paginator over five file systems, two per page.
	byID, err := c.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(id)})
	if err != nil || len(byID.FileSystems) != 1 || byID.FileSystems[0].LifeCycleState != types.LifeCycleStateAvailable ||
		aws.ToString(byID.FileSystems[0].Name) != "sdk" {
		t.Fatalf("DescribeFileSystems(%s) = %+v, %v", id, byID, err)
	}
	byToken, err := c.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{CreationToken: aws.String("sdk-main")})
	if err != nil || len(byToken.FileSystems) != 1 || aws.ToString(byToken.FileSystems[0].FileSystemId) != id {
		t.Fatalf("DescribeFileSystems(token) = %+v, %v", byToken, err)
	}
	all, pages, err := allFileSystems(ctx, c, 2)
	if err != nil {
		t.Fatalf("DescribeFileSystems paginator: %v", err)
	}
	var ids []string
	for _, f := range all {
		ids = append(ids, aws.ToString(f.FileSystemId))
	}
	if pages != 3 || len(ids) != 5 || !slices.IsSorted(ids) || !slices.Contains(ids, id) {
		t.Errorf("paginator by 2: %d pages, ids %v; want 3 pages of 5 distinct ids including %s", pages, ids, id)
	}
	_, err = c.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(unknownFS)})
	var fsNotFound *types.FileSystemNotFound
	if !errors.As(err, &fsNotFound) {
		t.Errorf("DescribeFileSystems(%s): %v, want FileSystemNotFound", unknownFS, err)
	}

	// Throughput changes.
	upd, err := c.UpdateFileSystem(ctx, &efs.UpdateFileSystemInput{FileSystemId: aws.String(id), ProvisionedThroughputInMibps: aws.Float64(64)})
	if err != nil || aws.ToFloat64(upd.ProvisionedThroughputInMibps) != 64 || upd.ThroughputMode != types.ThroughputModeProvisioned {
		t.Fatalf("UpdateFileSystem to 64 MiB/s = %+v, %v", upd, err)
	}
	upd, err = c.UpdateFileSystem(ctx, &efs.UpdateFileSystemInput{FileSystemId: aws.String(id), ThroughputMode: types.ThroughputModeElastic})
	if err != nil || upd.ThroughputMode != types.ThroughputModeElastic || upd.ProvisionedThroughputInMibps != nil {
		t.Fatalf("UpdateFileSystem to elastic = %+v, %v", upd, err)
	}
	_, err = c.UpdateFileSystem(ctx, &efs.UpdateFileSystemInput{FileSystemId: aws.String(id), ThroughputMode: types.ThroughputModeBursting})
	var tooMany *types.TooManyRequests
	if !errors.As(err, &tooMany) {
		t.Errorf("a second mode switch within 24 h: %v, want TooManyRequests", err)
	}

	// Tags, listed one per page.
	if _, err := c.TagResource(ctx, &efs.TagResourceInput{ResourceId: aws.String(id), Tags: []types.Tag{
		{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	listTags := func() (map[string]string, int) {
		t.Helper()
		var tags []types.Tag
		n := 0
		p := efs.NewListTagsForResourcePaginator(c, &efs.ListTagsForResourceInput{ResourceId: aws.String(id), MaxResults: aws.Int32(1)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListTagsForResource: %v", err)
			}
			n++
			tags = append(tags, out.Tags...)
		}
		return sdkTags(tags), n
	}
	if tags, n := listTags(); !maps.Equal(tags, map[string]string{"Name": "sdk", "a": "1", "b": "2"}) || n != 3 {
		t.Errorf("tags after TagResource = %v in %d pages, want Name, a, b in 3", tags, n)
	}
	if _, err := c.UntagResource(ctx, &efs.UntagResourceInput{ResourceId: aws.String(id), TagKeys: []string{"a"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	if tags, _ := listTags(); !maps.Equal(tags, map[string]string{"Name": "sdk", "b": "2"}) {
		t.Errorf("tags after UntagResource = %v", tags)
	}

	// Renaming through the Name tag, then dropping it.
	name := func() string {
		t.Helper()
		out, err := c.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(id)})
		if err != nil {
			t.Fatalf("DescribeFileSystems: %v", err)
		}
		return aws.ToString(out.FileSystems[0].Name)
	}
	if _, err := c.TagResource(ctx, &efs.TagResourceInput{ResourceId: aws.String(id), Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("renamed")}}}); err != nil {
		t.Fatalf("TagResource Name: %v", err)
	}
	if got := name(); got != "renamed" {
		t.Errorf("Name after tagging Name=renamed = %q", got)
	}
	if _, err := c.UntagResource(ctx, &efs.UntagResourceInput{ResourceId: aws.String(id), TagKeys: []string{"Name"}}); err != nil {
		t.Fatalf("UntagResource Name: %v", err)
	}
	if got := name(); got != "" {
		t.Errorf("Name after untagging Name = %q, want none", got)
	}

	// Two access points, listed one per page.
	var apIDs []string
	for _, path := range []string{"/message", "/ml"} {
		ap, err := c.CreateAccessPoint(ctx, &efs.CreateAccessPointInput{
			FileSystemId: aws.String(id),
			PosixUser:    &types.PosixUser{Uid: aws.Int64(1001), Gid: aws.Int64(1001), SecondaryGids: []int64{5, 6}},
			RootDirectory: &types.RootDirectory{Path: aws.String(path), CreationInfo: &types.CreationInfo{
				OwnerUid: aws.Int64(1001), OwnerGid: aws.Int64(1001), Permissions: aws.String("750")}},
		})
		if err != nil {
			t.Fatalf("CreateAccessPoint %s: %v", path, err)
		}
		apID := aws.ToString(ap.AccessPointId)
		// The client token makes a retry safe.
		_, err = c.CreateAccessPoint(ctx, &efs.CreateAccessPointInput{FileSystemId: aws.String(id), ClientToken: ap.ClientToken})
		var apExists *types.AccessPointAlreadyExists
		if !errors.As(err, &apExists) || aws.ToString(apExists.AccessPointId) != apID {
			t.Errorf("CreateAccessPoint with a used client token: %v, want AccessPointAlreadyExists naming %s", err, apID)
		}
		if !fsapIDPattern.MatchString(apID) || aws.ToString(ap.AccessPointArn) != s.apArn(apID) ||
			aws.ToString(ap.FileSystemId) != id || aws.ToString(ap.ClientToken) == "" ||
			aws.ToInt64(ap.PosixUser.Uid) != 1001 || !slices.Equal(ap.PosixUser.SecondaryGids, []int64{5, 6}) ||
			aws.ToString(ap.RootDirectory.Path) != path || aws.ToString(ap.RootDirectory.CreationInfo.Permissions) != "750" {
			t.Errorf("CreateAccessPoint %s = %+v", path, ap)
		}
		apIDs = append(apIDs, apID)
	}
	var listed []string
	apPages := efs.NewDescribeAccessPointsPaginator(c, &efs.DescribeAccessPointsInput{FileSystemId: aws.String(id), MaxResults: aws.Int32(1)})
	for apPages.HasMorePages() {
		out, err := apPages.NextPage(ctx)
		if err != nil {
			t.Fatalf("DescribeAccessPoints: %v", err)
		}
		for _, a := range out.AccessPoints {
			listed = append(listed, aws.ToString(a.AccessPointId))
		}
	}
	slices.Sort(apIDs)
	if !slices.Equal(listed, apIDs) {
		t.Errorf("DescribeAccessPoints one per page = %v, want %v", listed, apIDs)
	}
	one, err := c.DescribeAccessPoints(ctx, &efs.DescribeAccessPointsInput{AccessPointId: aws.String(apIDs[0])})
	if err != nil || len(one.AccessPoints) != 1 || one.AccessPoints[0].LifeCycleState != types.LifeCycleStateAvailable {
		t.Errorf("DescribeAccessPoints(%s) = %+v, %v", apIDs[0], one, err)
	}
	_, err = c.DeleteFileSystem(ctx, &efs.DeleteFileSystemInput{FileSystemId: aws.String(id)})
	var inUse *types.FileSystemInUse
	if !errors.As(err, &inUse) {
		t.Errorf("DeleteFileSystem with access points: %v, want FileSystemInUse", err)
	}

	// A mount target, and no second one.
	mt, err := c.CreateMountTarget(ctx, &efs.CreateMountTargetInput{FileSystemId: aws.String(id), SubnetId: aws.String("subnet-0123456789abcdef0")})
	if err != nil || !fsmtIDPattern.MatchString(aws.ToString(mt.MountTargetId)) || aws.ToString(mt.IpAddress) == "" {
		t.Fatalf("CreateMountTarget = %+v, %v", mt, err)
	}
	_, err = c.CreateMountTarget(ctx, &efs.CreateMountTargetInput{FileSystemId: aws.String(id), SubnetId: aws.String("subnet-0123456789abcdef1")})
	var conflict *types.MountTargetConflict
	if !errors.As(err, &conflict) {
		t.Errorf("a second CreateMountTarget: %v, want MountTargetConflict", err)
	}
	var mts []string
	mtPages := efs.NewDescribeMountTargetsPaginator(c, &efs.DescribeMountTargetsInput{FileSystemId: aws.String(id)})
	for mtPages.HasMorePages() {
		out, err := mtPages.NextPage(ctx)
		if err != nil {
			t.Fatalf("DescribeMountTargets: %v", err)
		}
		for _, m := range out.MountTargets {
			mts = append(mts, aws.ToString(m.MountTargetId))
		}
	}
	if want := []string{aws.ToString(mt.MountTargetId)}; !slices.Equal(mts, want) {
		t.Errorf("DescribeMountTargets = %v, want %v", mts, want)
	}

	// The policy.
	_, err = c.DescribeFileSystemPolicy(ctx, &efs.DescribeFileSystemPolicyInput{FileSystemId: aws.String(id)})
	var noPolicy *types.PolicyNotFound
	if !errors.As(err, &noPolicy) {
		t.Errorf("DescribeFileSystemPolicy before any: %v, want PolicyNotFound", err)
	}
	_, err = c.PutFileSystemPolicy(ctx, &efs.PutFileSystemPolicyInput{FileSystemId: aws.String(id), Policy: aws.String(malformedPolicy)})
	var badPolicy *types.InvalidPolicyException
	if !errors.As(err, &badPolicy) {
		t.Errorf("PutFileSystemPolicy with malformed JSON: %v, want InvalidPolicyException", err)
	}
	if _, err := c.PutFileSystemPolicy(ctx, &efs.PutFileSystemPolicyInput{FileSystemId: aws.String(id), Policy: aws.String(readOnlyPolicy)}); err != nil {
		t.Fatalf("PutFileSystemPolicy: %v", err)
	}
	pol, err := c.DescribeFileSystemPolicy(ctx, &efs.DescribeFileSystemPolicyInput{FileSystemId: aws.String(id)})
	if err != nil || !sameJSON(aws.ToString(pol.Policy), readOnlyPolicy) {
		t.Errorf("DescribeFileSystemPolicy = %+v, %v", pol, err)
	}
	if _, err := c.DeleteFileSystemPolicy(ctx, &efs.DeleteFileSystemPolicyInput{FileSystemId: aws.String(id)}); err != nil {
		t.Fatalf("DeleteFileSystemPolicy: %v", err)
	}

	// Tear down.
	for _, apID := range apIDs {
		if _, err := c.DeleteAccessPoint(ctx, &efs.DeleteAccessPointInput{AccessPointId: aws.String(apID)}); err != nil {
			t.Fatalf("DeleteAccessPoint: %v", err)
		}
	}
	_, err = c.DeleteFileSystem(ctx, &efs.DeleteFileSystemInput{FileSystemId: aws.String(id)})
	if !errors.As(err, &inUse) {
		t.Errorf("DeleteFileSystem with a mount target: %v, want FileSystemInUse", err)
	}
	if _, err := c.DeleteMountTarget(ctx, &efs.DeleteMountTargetInput{MountTargetId: mt.MountTargetId}); err != nil {
		t.Fatalf("DeleteMountTarget: %v", err)
	}
	if _, err := c.DeleteFileSystem(ctx, &efs.DeleteFileSystemInput{FileSystemId: aws.String(id)}); err != nil {
		t.Fatalf("DeleteFileSystem: %v", err)
	}
	_, err = c.DescribeAccessPoints(ctx, &efs.DescribeAccessPointsInput{AccessPointId: aws.String(apIDs[0])})
	var apNotFound *types.AccessPointNotFound
	if !errors.As(err, &apNotFound) {
		t.Errorf("DescribeAccessPoints of a deleted one: %v, want AccessPointNotFound", err)
	}
	_, err = c.DeleteMountTarget(ctx, &efs.DeleteMountTargetInput{MountTargetId: mt.MountTargetId})
	var mtNotFound *types.MountTargetNotFound
	if !errors.As(err, &mtNotFound) {
		t.Errorf("DeleteMountTarget of a deleted one: %v, want MountTargetNotFound", err)
	}
	_, err = c.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(id)})
	if !errors.As(err, &fsNotFound) {
		t.Errorf("DescribeFileSystems of a deleted one: %v, want FileSystemNotFound", err)
	}

	// Wrong secret and unknown key.
	_, err = sdkClient(s.Endpoint, s.Region, s.AccessKeyID, strings.Repeat("A", 40)).DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{})
	wantAPIError(t, "a wrong secret", err, "InvalidSignatureException")
	_, err = sdkClient(s.Endpoint, s.Region, "AKIAIOSFODNN7EXAMPLE", s.SecretAccessKey).DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{})
	wantAPIError(t, "an unknown key", err, "UnrecognizedClientException")
}
