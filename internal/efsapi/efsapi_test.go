package efsapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/efs/types"
	"github.com/aws/smithy-go"

	"tarn.dev/tarn/internal/efsapi"
	"tarn.dev/tarn/internal/store"
)

// world is an EFS API on a fresh store, with a Go SDK client pointed at it
// and a clock the test controls.
type world struct {
	t      *testing.T
	store  *store.Store
	client *efs.Client
	now    time.Time
	url    string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "tarn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := &world{t: t, store: st, now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	api := efsapi.New(efsapi.Config{Store: st, AccountID: "123456789012", Region: "us-east-1",
		MountAddress: "127.0.0.1", Now: func() time.Time { return w.now }})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	w.url = srv.URL
	w.client = efs.New(efs.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		RetryMaxAttempts: 1,
	})
	return w
}

// code returns the AWS error code of err, or "" when err is nil.
func code(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "non-API error: " + err.Error()
}

func (w *world) createFS(token string, mutate ...func(*efs.CreateFileSystemInput)) *efs.CreateFileSystemOutput {
	w.t.Helper()
	in := &efs.CreateFileSystemInput{CreationToken: aws.String(token)}
	for _, m := range mutate {
		m(in)
	}
	out, err := w.client.CreateFileSystem(context.Background(), in)
	if err != nil {
		w.t.Fatalf("CreateFileSystem(%s): %v", token, err)
	}
	return out
}

func TestCreateFileSystemDefaultsAndDescribe(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	out := w.createFS("tok-1", func(in *efs.CreateFileSystemInput) {
		in.Tags = []types.Tag{{Key: aws.String("Name"), Value: aws.String("msg")}, {Key: aws.String("team"), Value: aws.String("a")}}
	})
	id := aws.ToString(out.FileSystemId)
	if !strings.HasPrefix(id, "fs-") || len(id) != 20 {
		t.Errorf("FileSystemId = %q, want fs- and 17 hex digits", id)
	}
	if got, want := aws.ToString(out.FileSystemArn), "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/"+id; got != want {
		t.Errorf("FileSystemArn = %q, want %q", got, want)
	}
	if out.LifeCycleState != types.LifeCycleStateCreating {
		t.Errorf("create LifeCycleState = %q, want creating", out.LifeCycleState)
	}
	if out.PerformanceMode != types.PerformanceModeGeneralPurpose || out.ThroughputMode != types.ThroughputModeBursting {
		t.Errorf("defaults = %s/%s, want generalPurpose/bursting", out.PerformanceMode, out.ThroughputMode)
	}
	if aws.ToString(out.Name) != "msg" {
		t.Errorf("Name = %q, want the Name tag msg", aws.ToString(out.Name))
	}
	if out.SizeInBytes == nil || out.SizeInBytes.Value != 6144 {
		t.Errorf("SizeInBytes = %+v, want 6144 for an empty file system", out.SizeInBytes)
	}
	if !out.CreationTime.Equal(w.now) {
		t.Errorf("CreationTime = %v, want %v", out.CreationTime, w.now)
	}
	d, err := w.client.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: out.FileSystemId})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.FileSystems) != 1 || d.FileSystems[0].LifeCycleState != types.LifeCycleStateAvailable {
		t.Fatalf("DescribeFileSystems(%s) = %+v, want one available file system", id, d.FileSystems)
	}
	if len(d.FileSystems[0].Tags) != 2 {
		t.Errorf("Tags = %v, want 2", d.FileSystems[0].Tags)
	}
	byToken, err := w.client.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{CreationToken: aws.String("tok-1")})
	if err != nil || len(byToken.FileSystems) != 1 || aws.ToString(byToken.FileSystems[0].FileSystemId) != id {
		t.Errorf("DescribeFileSystems(token) = %+v, %v; want %s", byToken, err, id)
	}
	none, err := w.client.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{CreationToken: aws.String("nope")})
	if err != nil || len(none.FileSystems) != 0 {
		t.Errorf("DescribeFileSystems(unknown token) = %+v, %v; want an empty list", none, err)
	}
}

func TestCreateFileSystemErrors(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	first := w.createFS("dup")
	cases := []struct {
		name string
		in   efs.CreateFileSystemInput
		code string
		msg  string
	}{
		{"reused creation token", efs.CreateFileSystemInput{CreationToken: aws.String("dup")}, "FileSystemAlreadyExists", aws.ToString(first.FileSystemId)},
		{"reused token different parameters", efs.CreateFileSystemInput{CreationToken: aws.String("dup"), PerformanceMode: types.PerformanceModeMaxIo}, "FileSystemAlreadyExists", "dup"},
		{"token too long", efs.CreateFileSystemInput{CreationToken: aws.String(strings.Repeat("x", 65))}, "ValidationException", "creationToken"},
		{"bad performance mode", efs.CreateFileSystemInput{CreationToken: aws.String("a"), PerformanceMode: "fast"}, "ValidationException", "performanceMode"},
		{"bad throughput mode", efs.CreateFileSystemInput{CreationToken: aws.String("b"), ThroughputMode: "turbo"}, "ValidationException", "throughputMode"},
		{"provisioned without figure", efs.CreateFileSystemInput{CreationToken: aws.String("c"), ThroughputMode: types.ThroughputModeProvisioned}, "BadRequest", "ProvisionedThroughputInMibps"},
		{"provisioned figure too large", efs.CreateFileSystemInput{CreationToken: aws.String("d"), ThroughputMode: types.ThroughputModeProvisioned, ProvisionedThroughputInMibps: aws.Float64(1e6)}, "BadRequest", "out of range"},
		{"figure without provisioned", efs.CreateFileSystemInput{CreationToken: aws.String("e"), ProvisionedThroughputInMibps: aws.Float64(10)}, "BadRequest", "only be set"},
		{"kms key without encryption", efs.CreateFileSystemInput{CreationToken: aws.String("f"), KmsKeyId: aws.String("k")}, "BadRequest", "Encrypted"},
		{"aws: tag prefix", efs.CreateFileSystemInput{CreationToken: aws.String("g"), Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("1")}}}, "BadRequest", "reserved"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.in
			_, err := w.client.CreateFileSystem(ctx, &in)
			if err == nil {
				t.Fatalf("CreateFileSystem succeeded, want %s", c.code)
			}
			if code(err) != c.code || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("CreateFileSystem error = %v, want %s mentioning %q", err, c.code, c.msg)
			}
		})
	}
	all, err := w.client.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{})
	if err != nil || len(all.FileSystems) != 1 {
		t.Errorf("after rejected creates there are %d file systems (%v), want 1", len(all.FileSystems), err)
	}
}

func TestDescribeFileSystemsPaginates(t *testing.T) {
	w := newWorld(t)
	ids := map[string]bool{}
	for i := 0; i < 7; i++ {
		ids[aws.ToString(w.createFS(fmt.Sprintf("p%d", i)).FileSystemId)] = true
	}
	p := efs.NewDescribeFileSystemsPaginator(w.client, &efs.DescribeFileSystemsInput{MaxItems: aws.Int32(3)})
	pages, seen := 0, map[string]bool{}
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(out.FileSystems) > 3 {
			t.Errorf("page %d has %d items, want at most 3", pages, len(out.FileSystems))
		}
		for _, f := range out.FileSystems {
			if seen[aws.ToString(f.FileSystemId)] {
				t.Errorf("%s appears twice", aws.ToString(f.FileSystemId))
			}
			seen[aws.ToString(f.FileSystemId)] = true
		}
	}
	if pages != 3 || len(seen) != 7 {
		t.Errorf("paginated %d pages with %d file systems, want 3 pages and 7", pages, len(seen))
	}
	_, err := w.client.DescribeFileSystems(context.Background(), &efs.DescribeFileSystemsInput{Marker: aws.String("!!not-a-marker")})
	if code(err) != "BadRequest" {
		t.Errorf("bad marker: %v, want BadRequest", err)
	}
}

func TestUpdateFileSystemThroughputRules(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	id := w.createFS("u").FileSystemId
	out, err := w.client.UpdateFileSystem(ctx, &efs.UpdateFileSystemInput{FileSystemId: id,
		ThroughputMode: types.ThroughputModeProvisioned, ProvisionedThroughputInMibps: aws.Float64(100)})
	if err != nil || out.ThroughputMode != types.ThroughputModeProvisioned || aws.ToFloat64(out.ProvisionedThroughputInMibps) != 100 {
		t.Fatalf("switch to provisioned = %+v, %v", out, err)
	}
	// Increases are allowed at any time.
	if _, err := w.client.UpdateFileSystem(ctx, &efs.UpdateFileSystemInput{FileSystemId: id, ProvisionedThroughputInMibps: aws.Float64(200)}); err != nil {
		t.Fatalf("increase: %v", err)
	}
	// A decrease within 24 h of the mode switch is refused.
	w.now = w.now.Add(time.Hour)
	_, err = w.client.UpdateFileSystem(ctx, &efs.UpdateFileSystemInput{FileSystemId: id, ProvisionedThroughputInMibps: aws.Float64(50)})
	if code(err) != "TooManyRequests" {
		t.Fatalf("decrease after 1 h: %v, want TooManyRequests", err)
	}
	w.now = w.now.Add(24 * time.Hour)
	if _, err := w.client.UpdateFileSystem(ctx, &efs.UpdateFileSystemInput{FileSystemId: id, ProvisionedThroughputInMibps: aws.Float64(50)}); err != nil {
		t.Fatalf("decrease after 25 h: %v", err)
	}
	d, _ := w.client.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: id})
	if got := aws.ToFloat64(d.FileSystems[0].ProvisionedThroughputInMibps); got != 50 {
		t.Errorf("stored provisioned throughput = %g, want 50", got)
	}
	_, err = w.client.UpdateFileSystem(ctx, &efs.UpdateFileSystemInput{FileSystemId: aws.String("fs-0123456789abcdef0"), ThroughputMode: types.ThroughputModeElastic})
	if code(err) != "FileSystemNotFound" {
		t.Errorf("update unknown: %v, want FileSystemNotFound", err)
	}
}

func TestDeleteFileSystemRefusedWhileInUse(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	id := w.createFS("d").FileSystemId
	ap, err := w.client.CreateAccessPoint(ctx, &efs.CreateAccessPointInput{ClientToken: aws.String("c"), FileSystemId: id})
	if err != nil {
		t.Fatal(err)
	}
	mt, err := w.client.CreateMountTarget(ctx, &efs.CreateMountTargetInput{FileSystemId: id, SubnetId: aws.String("subnet-01234567")})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		name string
		undo func() error
	}{
		{"access point and mount target", func() error {
			_, err := w.client.DeleteAccessPoint(ctx, &efs.DeleteAccessPointInput{AccessPointId: ap.AccessPointId})
			return err
		}},
		{"mount target", func() error {
			_, err := w.client.DeleteMountTarget(ctx, &efs.DeleteMountTargetInput{MountTargetId: mt.MountTargetId})
			return err
		}},
	} {
		_, err := w.client.DeleteFileSystem(ctx, &efs.DeleteFileSystemInput{FileSystemId: id})
		if code(err) != "FileSystemInUse" {
			t.Fatalf("delete with %s: %v, want FileSystemInUse", step.name, err)
		}
		if err := step.undo(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.client.DeleteFileSystem(ctx, &efs.DeleteFileSystemInput{FileSystemId: id}); err != nil {
		t.Fatalf("delete unused: %v", err)
	}
	_, err = w.client.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: id})
	if code(err) != "FileSystemNotFound" {
		t.Errorf("describe deleted: %v, want FileSystemNotFound", err)
	}
	_, err = w.client.DeleteFileSystem(ctx, &efs.DeleteFileSystemInput{FileSystemId: id})
	if code(err) != "FileSystemNotFound" {
		t.Errorf("delete twice: %v, want FileSystemNotFound", err)
	}
}

func TestAccessPoints(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	fsID := w.createFS("ap").FileSystemId
	in := &efs.CreateAccessPointInput{
		ClientToken:  aws.String("msg"),
		FileSystemId: fsID,
		PosixUser:    &types.PosixUser{Uid: aws.Int64(1001), Gid: aws.Int64(1001), SecondaryGids: []int64{5, 6}},
		RootDirectory: &types.RootDirectory{Path: aws.String("/message"),
			CreationInfo: &types.CreationInfo{OwnerUid: aws.Int64(1001), OwnerGid: aws.Int64(1001), Permissions: aws.String("750")}},
		Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("wall")}},
	}
	out, err := w.client.CreateAccessPoint(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	apID := aws.ToString(out.AccessPointId)
	if !strings.HasPrefix(apID, "fsap-") || len(apID) != 22 {
		t.Errorf("AccessPointId = %q, want fsap- and 17 hex digits", apID)
	}
	if aws.ToString(out.Name) != "wall" || aws.ToInt64(out.PosixUser.Uid) != 1001 || len(out.PosixUser.SecondaryGids) != 2 ||
		aws.ToString(out.RootDirectory.Path) != "/message" || aws.ToString(out.RootDirectory.CreationInfo.Permissions) != "750" {
		t.Errorf("CreateAccessPoint = %+v, fields not echoed", out)
	}
	_, err = w.client.CreateAccessPoint(ctx, in)
	if code(err) != "AccessPointAlreadyExists" || !strings.Contains(err.Error(), apID) {
		t.Errorf("reused client token: %v, want AccessPointAlreadyExists naming %s", err, apID)
	}
	bad := []struct {
		name   string
		mutate func(*efs.CreateAccessPointInput)
		code   string
	}{
		{"dot component", func(i *efs.CreateAccessPointInput) {
			i.RootDirectory = &types.RootDirectory{Path: aws.String("/a/.hidden")}
		}, "ValidationException"},
		{"five components", func(i *efs.CreateAccessPointInput) {
			i.RootDirectory = &types.RootDirectory{Path: aws.String("/a/b/c/d/e")}
		}, "ValidationException"},
		{"trailing slash", func(i *efs.CreateAccessPointInput) { i.RootDirectory = &types.RootDirectory{Path: aws.String("/a/")} }, "ValidationException"},
		{"bad permissions", func(i *efs.CreateAccessPointInput) {
			i.RootDirectory = &types.RootDirectory{Path: aws.String("/x"), CreationInfo: &types.CreationInfo{OwnerUid: aws.Int64(1), OwnerGid: aws.Int64(1), Permissions: aws.String("999")}}
		}, "ValidationException"},
		{"uid out of range", func(i *efs.CreateAccessPointInput) {
			i.PosixUser = &types.PosixUser{Uid: aws.Int64(1 << 32), Gid: aws.Int64(1)}
		}, "ValidationException"},
		{"unknown file system", func(i *efs.CreateAccessPointInput) { i.FileSystemId = aws.String("fs-0123456789abcdef0") }, "FileSystemNotFound"},
		{"malformed file system id", func(i *efs.CreateAccessPointInput) { i.FileSystemId = aws.String("fs-XYZ") }, "ValidationException"},
	}
	for i, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			in := &efs.CreateAccessPointInput{ClientToken: aws.String(fmt.Sprint("bad", i)), FileSystemId: fsID}
			c.mutate(in)
			_, err := w.client.CreateAccessPoint(ctx, in)
			if code(err) != c.code {
				t.Errorf("CreateAccessPoint: %v, want %s", err, c.code)
			}
		})
	}
	list, err := w.client.DescribeAccessPoints(ctx, &efs.DescribeAccessPointsInput{FileSystemId: fsID})
	if err != nil || len(list.AccessPoints) != 1 || list.AccessPoints[0].LifeCycleState != types.LifeCycleStateAvailable {
		t.Fatalf("DescribeAccessPoints = %+v, %v; want the one available access point", list, err)
	}
	if _, err := w.client.DeleteAccessPoint(ctx, &efs.DeleteAccessPointInput{AccessPointId: out.AccessPointId}); err != nil {
		t.Fatal(err)
	}
	_, err = w.client.DescribeAccessPoints(ctx, &efs.DescribeAccessPointsInput{AccessPointId: out.AccessPointId})
	if code(err) != "AccessPointNotFound" {
		t.Errorf("describe deleted access point: %v, want AccessPointNotFound", err)
	}
}

func TestMountTargets(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	fsID := w.createFS("mt").FileSystemId
	out, err := w.client.CreateMountTarget(ctx, &efs.CreateMountTargetInput{FileSystemId: fsID, SubnetId: aws.String("subnet-01234567")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.IpAddress) != "127.0.0.1" || aws.ToString(out.AvailabilityZoneName) != "us-east-1a" {
		t.Errorf("mount target = %+v, want the file service's address in us-east-1a", out)
	}
	_, err = w.client.CreateMountTarget(ctx, &efs.CreateMountTargetInput{FileSystemId: fsID, SubnetId: aws.String("subnet-89abcdef")})
	if code(err) != "MountTargetConflict" {
		t.Errorf("second mount target: %v, want MountTargetConflict", err)
	}
	d, err := w.client.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: fsID})
	if err != nil || d.FileSystems[0].NumberOfMountTargets != 1 {
		t.Errorf("NumberOfMountTargets = %v (%v), want 1", d.FileSystems[0].NumberOfMountTargets, err)
	}
	_, err = w.client.DescribeMountTargets(ctx, &efs.DescribeMountTargetsInput{})
	if code(err) != "BadRequest" {
		t.Errorf("DescribeMountTargets with no filter: %v, want BadRequest", err)
	}
	byID, err := w.client.DescribeMountTargets(ctx, &efs.DescribeMountTargetsInput{MountTargetId: out.MountTargetId})
	if err != nil || len(byID.MountTargets) != 1 || byID.MountTargets[0].LifeCycleState != types.LifeCycleStateAvailable {
		t.Errorf("DescribeMountTargets(id) = %+v, %v", byID, err)
	}
	if _, err := w.client.DeleteMountTarget(ctx, &efs.DeleteMountTargetInput{MountTargetId: out.MountTargetId}); err != nil {
		t.Fatal(err)
	}
	_, err = w.client.DeleteMountTarget(ctx, &efs.DeleteMountTargetInput{MountTargetId: out.MountTargetId})
	if code(err) != "MountTargetNotFound" {
		t.Errorf("delete twice: %v, want MountTargetNotFound", err)
	}
}

func TestFileSystemPolicy(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	fsID := w.createFS("pol").FileSystemId
	_, err := w.client.DescribeFileSystemPolicy(ctx, &efs.DescribeFileSystemPolicyInput{FileSystemId: fsID})
	if code(err) != "PolicyNotFound" {
		t.Errorf("describe with no policy: %v, want PolicyNotFound", err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"elasticfilesystem:ClientMount","Resource":"*"}]}`
	if _, err := w.client.PutFileSystemPolicy(ctx, &efs.PutFileSystemPolicyInput{FileSystemId: fsID, Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct{ doc, want string }{
		{"{\"Statement\": [\n  {\"Effect\": \"Allow\",, }]}", "line 2"},
		{`[]`, "JSON object"},
		{`{"Statement":[{"Effect":"Maybe","Action":"x"}]}`, "Effect"},
		{`{"Statement":[{"Effect":"Allow"}]}`, "Action"},
		{`{"Version":"2012-10-17"}`, "Statement"},
	} {
		_, err := w.client.PutFileSystemPolicy(ctx, &efs.PutFileSystemPolicyInput{FileSystemId: fsID, Policy: aws.String(bad.doc)})
		if code(err) != "InvalidPolicyException" || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("PutFileSystemPolicy(%q): %v, want InvalidPolicyException mentioning %q", bad.doc, err, bad.want)
		}
	}
	got, err := w.client.DescribeFileSystemPolicy(ctx, &efs.DescribeFileSystemPolicyInput{FileSystemId: fsID})
	if err != nil || aws.ToString(got.Policy) != policy {
		t.Errorf("policy after rejected puts = %q, %v; want the first one kept", aws.ToString(got.Policy), err)
	}
	if _, err := w.client.DeleteFileSystemPolicy(ctx, &efs.DeleteFileSystemPolicyInput{FileSystemId: fsID}); err != nil {
		t.Fatal(err)
	}
	_, err = w.client.DescribeFileSystemPolicy(ctx, &efs.DescribeFileSystemPolicyInput{FileSystemId: fsID})
	if code(err) != "PolicyNotFound" {
		t.Errorf("describe after delete: %v, want PolicyNotFound", err)
	}
}

func TestTagging(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	fsID := w.createFS("tags").FileSystemId
	_, err := w.client.TagResource(ctx, &efs.TagResourceInput{ResourceId: fsID, Tags: []types.Tag{
		{Key: aws.String("Name"), Value: aws.String("renamed")}, {Key: aws.String("b"), Value: aws.String("2")}, {Key: aws.String("a"), Value: aws.String("1")}}})
	if err != nil {
		t.Fatal(err)
	}
	p := efs.NewListTagsForResourcePaginator(w.client, &efs.ListTagsForResourceInput{ResourceId: fsID, MaxResults: aws.Int32(2)})
	var keys []string
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range out.Tags {
			keys = append(keys, aws.ToString(tg.Key))
		}
	}
	if strings.Join(keys, ",") != "Name,a,b" {
		t.Errorf("tags = %v, want Name,a,b in order across pages", keys)
	}
	d, _ := w.client.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: fsID})
	if aws.ToString(d.FileSystems[0].Name) != "renamed" {
		t.Errorf("Name = %q, want it to follow the Name tag", aws.ToString(d.FileSystems[0].Name))
	}
	if _, err := w.client.UntagResource(ctx, &efs.UntagResourceInput{ResourceId: fsID, TagKeys: []string{"Name", "a"}}); err != nil {
		t.Fatal(err)
	}
	out, err := w.client.ListTagsForResource(ctx, &efs.ListTagsForResourceInput{ResourceId: fsID})
	if err != nil || len(out.Tags) != 1 || aws.ToString(out.Tags[0].Key) != "b" {
		t.Errorf("tags after untag = %+v, %v; want only b", out, err)
	}
	_, err = w.client.TagResource(ctx, &efs.TagResourceInput{ResourceId: aws.String("fsap-0123456789abcdef0"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	if code(err) != "AccessPointNotFound" {
		t.Errorf("tag unknown access point: %v, want AccessPointNotFound", err)
	}
}

func TestMalformedRequests(t *testing.T) {
	w := newWorld(t)
	cases := []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"POST", "/2015-02-01/file-systems", `{"CreationToken":`, 400, "SerializationException"},
		{"POST", "/2015-02-01/file-systems", `{"CreationToken": 5}`, 400, "SerializationException"},
		{"POST", "/2015-02-01/file-systems", `{"CreationToken":"a"} {}`, 400, "SerializationException"},
		{"POST", "/2015-02-01/file-systems", `{"CreationToken":"a","Encrypted":"yes"}`, 400, "SerializationException"},
		{"POST", "/2015-02-01/file-systems", `{"PerformanceMode":"maxIO"}`, 400, "ValidationException"},
		{"POST", "/2015-02-01/access-points", `{"ClientToken":"x","FileSystemId":"fs-0123456789abcdef0","PosixUser":{"Uid":1}}`, 400, "ValidationException"},
		{"GET", "/2015-02-01/file-systems?MaxItems=abc", ``, 400, "ValidationException"},
		{"GET", "/2015-02-01/file-systems?MaxItems=0", ``, 400, "ValidationException"},
		{"GET", "/2015-02-01/nothing-here", ``, 404, "UnknownOperationException"},
		{"PATCH", "/2015-02-01/file-systems", ``, 404, "UnknownOperationException"},
		{"DELETE", "/2015-02-01/file-systems/not-an-id", ``, 400, "ValidationException"},
		{"POST", "/2015-02-01/file-systems", strings.Repeat(" ", 2<<20), 413, "BadRequest"},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, w.url+c.path, strings.NewReader(c.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status || resp.Header.Get("x-amzn-ErrorType") != c.code {
			t.Errorf("%s %s %.30q: %d %s, want %d %s", c.method, c.path, c.body, resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), c.status, c.code)
		}
	}
	all, _ := w.client.DescribeFileSystems(context.Background(), &efs.DescribeFileSystemsInput{})
	if len(all.FileSystems) != 0 {
		t.Errorf("malformed requests created %d file systems", len(all.FileSystems))
	}
}

func TestARNsOfOtherAccountsFindNothing(t *testing.T) {
	w := newWorld(t)
	id := aws.ToString(w.createFS("arn").FileSystemId)
	ctx := context.Background()
	own := "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/" + id
	if out, err := w.client.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(own)}); err != nil || len(out.FileSystems) != 1 {
		t.Errorf("DescribeFileSystems(own ARN) = %v, %v; want the file system", out, err)
	}
	for _, arn := range []string{
		"arn:aws:elasticfilesystem:us-east-1:000000000000:file-system/" + id,
		"arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/" + id,
	} {
		_, err := w.client.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(arn)})
		if code(err) != "FileSystemNotFound" {
			t.Errorf("DescribeFileSystems(%s): %v, want FileSystemNotFound", arn, err)
		}
	}
}

// TestTaggingCallsAnswerInTheirOwnStyle checks the status codes, error codes
// and messages of both tagging families: the current calls (200, resource id
// in not-found messages) and the legacy file-system calls (204, "file system"
// in not-found messages).
func TestTaggingCallsAnswerInTheirOwnStyle(t *testing.T) {
	w := newWorld(t)
	id := aws.ToString(w.createFS("tag-styles").FileSystemId)
	const gone = "fs-0123456789abcdef0"
	const gap = "fsap-0123456789abcdef0"
	null := func(field string) string {
		return "1 validation error detected: Value 'null' at '" + field + "' failed to satisfy constraint: Member must not be null"
	}
	cases := []struct {
		name, method, path, body string
		status                   int
		code, message, answer    string // answer: the body of a success, when it has one
	}{
		{"TagResource", "POST", "/2015-02-01/resource-tags/" + id, `{"Tags":[{"Key":"a","Value":"1"}]}`, 200, "", "", ""},
		{"TagResource without Tags", "POST", "/2015-02-01/resource-tags/" + id, `{}`, 400, "ValidationException", null("tags"), ""},
		{"TagResource with a bad tag", "POST", "/2015-02-01/resource-tags/" + id, `{"Tags":[{"Key":"k"}]}`, 400, "ValidationException", null("tags.1.member.value"), ""},
		{"TagResource of a missing file system", "POST", "/2015-02-01/resource-tags/" + gone, `{"Tags":[]}`, 404, "FileSystemNotFound", gone + " does not exist", ""},
		{"TagResource of a missing access point", "POST", "/2015-02-01/resource-tags/" + gap, `{"Tags":[]}`, 404, "AccessPointNotFound", gap + " does not exist", ""},
		{"CreateTags", "POST", "/2015-02-01/create-tags/" + id, `{"Tags":[{"Key":"b","Value":"2"}]}`, 204, "", "", ""},
		{"CreateTags without Tags", "POST", "/2015-02-01/create-tags/" + id, `{}`, 400, "ValidationException", null("tags"), ""},
		{"CreateTags with a bad tag", "POST", "/2015-02-01/create-tags/" + id, `{"Tags":[{"Value":"v"}]}`, 400, "ValidationException", null("tags.1.member.key"), ""},
		{"CreateTags of a missing file system", "POST", "/2015-02-01/create-tags/" + gone, `{"Tags":[]}`, 404, "FileSystemNotFound", "file system " + gone + " does not exist", ""},
		{"CreateTags of an access point", "POST", "/2015-02-01/create-tags/" + gap, `{"Tags":[]}`, 400, "ValidationException", "", ""},
		{"ListTagsForResource", "GET", "/2015-02-01/resource-tags/" + id, ``, 200, "", "", `{"Tags":[{"Key":"a","Value":"1"},{"Key":"b","Value":"2"}]}`},
		{"ListTagsForResource of a missing file system", "GET", "/2015-02-01/resource-tags/" + gone, ``, 404, "FileSystemNotFound", gone + " does not exist", ""},
		{"DescribeTags", "GET", "/2015-02-01/tags/" + id + "/", ``, 200, "", "", `{"Tags":[{"Key":"a","Value":"1"},{"Key":"b","Value":"2"}]}`},
		{"DescribeTags of a missing file system", "GET", "/2015-02-01/tags/" + gone + "/", ``, 404, "FileSystemNotFound", "file system " + gone + " does not exist", ""},
		{"UntagResource without keys", "DELETE", "/2015-02-01/resource-tags/" + id, ``, 400, "ValidationException", null("tagKeys"), ""},
		{"UntagResource of a missing file system", "DELETE", "/2015-02-01/resource-tags/" + gone + "?tagKeys=a", ``, 404, "FileSystemNotFound", gone + " does not exist", ""},
		{"UntagResource", "DELETE", "/2015-02-01/resource-tags/" + id + "?tagKeys=a", ``, 200, "", "", ""},
		{"DeleteTags without keys", "POST", "/2015-02-01/delete-tags/" + id, `{"TagKeys":[]}`, 400, "ValidationException", null("tagKeys"), ""},
		{"DeleteTags of a missing file system", "POST", "/2015-02-01/delete-tags/" + gone, `{"TagKeys":["b"]}`, 404, "FileSystemNotFound", "file system " + gone + " does not exist", ""},
		{"DeleteTags", "POST", "/2015-02-01/delete-tags/" + id, `{"TagKeys":["b"]}`, 204, "", "", ""},
		{"DescribeTags after deletes", "GET", "/2015-02-01/tags/" + id + "/", ``, 200, "", "", `{"Tags":[]}`},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, w.url+c.path, strings.NewReader(c.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || resp.Header.Get("x-amzn-ErrorType") != c.code {
			t.Errorf("%s: %d %s, want %d %s (%s)", c.name, resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), c.status, c.code, body)
			continue
		}
		if c.code != "" {
			var e struct{ ErrorCode, Message string }
			if err := json.Unmarshal(body, &e); err != nil || e.ErrorCode != c.code || (c.message != "" && e.Message != c.message) {
				t.Errorf("%s: error body %s, want ErrorCode %s and Message %q", c.name, body, c.code, c.message)
			}
			continue
		}
		if got := strings.TrimSpace(string(body)); got != c.answer {
			t.Errorf("%s: body %q, want %q", c.name, got, c.answer)
		}
	}
}

// TestListFiltersNamingNothing checks the answers of list calls whose
// FileSystemId or AccessPointId filter is malformed or names nothing.
func TestListFiltersNamingNothing(t *testing.T) {
	w := newWorld(t)
	const gone = "fs-0123456789abcdef0"
	const gap = "fsap-0123456789abcdef0"
	cases := []struct {
		path          string
		status        int
		code, message string // message: all of it, or for a ValidationException the field it names
	}{
		{"/2015-02-01/file-systems?FileSystemId=" + gone, 404, "FileSystemNotFound", "file system " + gone + " does not exist"},
		{"/2015-02-01/file-systems?FileSystemId=arn:aws:elasticfilesystem:us-east-1:000000000000:file-system/" + gone, 404, "FileSystemNotFound",
			"file system arn:aws:elasticfilesystem:us-east-1:000000000000:file-system/" + gone + " does not exist"},
		{"/2015-02-01/access-points?FileSystemId=" + gone, 404, "FileSystemNotFound", "file system " + gone + " does not exist"},
		{"/2015-02-01/access-points?AccessPointId=" + gap, 404, "AccessPointNotFound", "access point " + gap + " does not exist"},
		{"/2015-02-01/mount-targets?FileSystemId=" + gone, 404, "FileSystemNotFound", "file system " + gone + " does not exist"},
		{"/2015-02-01/mount-targets?AccessPointId=" + gap, 404, "AccessPointNotFound", "access point " + gap + " does not exist"},
		{"/2015-02-01/file-systems?FileSystemId=nope", 400, "ValidationException", "'fileSystemId'"},
		{"/2015-02-01/access-points?FileSystemId=nope", 400, "ValidationException", "'fileSystemId'"},
		{"/2015-02-01/access-points?AccessPointId=nope", 400, "ValidationException", "'accessPointId'"},
		{"/2015-02-01/mount-targets?FileSystemId=nope", 400, "ValidationException", "'fileSystemId'"},
		{"/2015-02-01/mount-targets?AccessPointId=nope", 400, "ValidationException", "'accessPointId'"},
	}
	for _, c := range cases {
		resp, err := http.Get(w.url + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct{ ErrorCode, Message string }
		json.Unmarshal(body, &e)
		ok := resp.StatusCode == c.status && e.ErrorCode == c.code
		if c.code == "ValidationException" {
			ok = ok && strings.Contains(e.Message, c.message)
		} else {
			ok = ok && e.Message == c.message
		}
		if !ok {
			t.Errorf("GET %s: %d %s, want %d %s %q", c.path, resp.StatusCode, body, c.status, c.code, c.message)
		}
	}
}
