package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"tarn.dev/tarn/internal/testserver"
	"testing"
)

// JSON shapes printed by `aws --output json efs …`.

type wireTag struct{ Key, Value string }

func tagMap(tags []wireTag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

type wireFileSystem struct {
	OwnerID              string `json:"OwnerId"`
	CreationToken        string
	FileSystemID         string `json:"FileSystemId"`
	FileSystemArn        string
	CreationTime         any
	LifeCycleState       string
	Name                 string
	NumberOfMountTargets int
	SizeInBytes          struct{ Value, ValueInStandard int64 }
	PerformanceMode      string
	Encrypted            bool
	KmsKeyID             string `json:"KmsKeyId"`
	ThroughputMode       string
	// Pointer: absent unless the mode is provisioned.
	ProvisionedThroughputInMibps *float64
	Tags                         []wireTag
}

type wireFileSystems struct {
	FileSystems []wireFileSystem
	NextToken   string // the CLI's own pagination token, wrapping NextMarker
}

type wirePosixUser struct {
	UID           int64   `json:"Uid"`
	GID           int64   `json:"Gid"`
	SecondaryGIDs []int64 `json:"SecondaryGids"`
}

type wireCreationInfo struct {
	OwnerUID    int64 `json:"OwnerUid"`
	OwnerGID    int64 `json:"OwnerGid"`
	Permissions string
}

type wireRootDirectory struct {
	Path         string
	CreationInfo *wireCreationInfo
}

type wireAccessPoint struct {
	ClientToken    string
	Name           string
	Tags           []wireTag
	AccessPointID  string `json:"AccessPointId"`
	AccessPointArn string
	FileSystemID   string `json:"FileSystemId"`
	PosixUser      *wirePosixUser
	RootDirectory  *wireRootDirectory
	OwnerID        string `json:"OwnerId"`
	LifeCycleState string
}

type wireMountTarget struct {
	OwnerID              string `json:"OwnerId"`
	MountTargetID        string `json:"MountTargetId"`
	FileSystemID         string `json:"FileSystemId"`
	SubnetID             string `json:"SubnetId"`
	LifeCycleState       string
	IPAddress            string `json:"IpAddress"`
	AvailabilityZoneName string
}

type wirePolicy struct {
	FileSystemID string `json:"FileSystemId"`
	Policy       string
}

const (
	// A policy document the API must accept.
	readOnlyPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"ReadOnlyOverTLS","Effect":"Allow",` +
		`"Principal":{"AWS":"*"},"Action":["elasticfilesystem:ClientMount"],` +
		`"Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`
	// A policy document that is not JSON at all.
	malformedPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",`
	unknownFS       = "fs-0123456789abcdef0"
	unknownAP       = "fsap-0123456789abcdef0"
	unknownMT       = "fsmt-0123456789abcdef0"
)

// sameJSON reports whether two JSON documents mean the same.
func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// TestAWSCLIDrivesTheWholeEFSAPI walks one file system through its life with
// the AWS CLI: creation with options, idempotency, lookup and pagination,
// throughput changes, tags, an access point, a mount target, a policy, the
// errors AWS defines for each, and deletion.
func TestAWSCLIDrivesTheWholeEFSAPI(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	s := startServer(t, newDataDir(t))
	aws := s.awsCLI(t)

	// A file system with a name, provisioned throughput and encryption.
	var fs wireFileSystem
	aws.must(&fs, "efs", "create-file-system", "--creation-token", "story-main",
		"--performance-mode", "generalPurpose", "--throughput-mode", "provisioned",
		"--provisioned-throughput-in-mibps", "10", "--encrypted",
		"--tags", "Key=Name,Value=messages", "Key=team,Value=wall")
	id := fs.FileSystemID
	if !fsIDPattern.MatchString(id) {
		t.Fatalf("FileSystemId = %q, want %v", id, fsIDPattern)
	}
	checkFS := func(what string, got wireFileSystem, wantState string, wantMibps float64) {
		t.Helper()
		if got.FileSystemID != id || got.FileSystemArn != s.fsArn(id) || got.OwnerID != s.AccountID ||
			got.CreationToken != "story-main" || got.Name != "messages" || got.LifeCycleState != wantState ||
			got.SizeInBytes.Value != 6144 || got.SizeInBytes.ValueInStandard != 6144 || !got.Encrypted ||
			got.KmsKeyID == "" || got.PerformanceMode != "generalPurpose" || got.CreationTime == nil ||
			got.ProvisionedThroughputInMibps == nil || *got.ProvisionedThroughputInMibps != wantMibps {
			t.Errorf("%s: got %+v\nwant id %s, ARN %s, owner %s, token story-main, Name messages, %s, 6144 bytes, encrypted, %g MiB/s",
				what, got, id, s.fsArn(id), s.AccountID, wantState, wantMibps)
		}
		if want := map[string]string{"Name": "messages", "team": "wall"}; !maps.Equal(tagMap(got.Tags), want) {
			t.Errorf("%s: Tags = %v, want %v", what, got.Tags, want)
		}
	}
	checkFS("create-file-system", fs, "creating", 10)

	// Lookups, four more file systems and every error we can provoke
	// without further set-up, all independent of one another.
	var byID, byToken wireFileSystems
	testserver.Parallel(t,
		func() error { return aws.call(&byID, "efs", "describe-file-systems", "--file-system-id", id) },
		func() error {
			return aws.call(&byToken, "efs", "describe-file-systems", "--creation-token", "story-main")
		},
		func() error {
			return aws.failsWith("FileSystemAlreadyExists", "efs", "create-file-system", "--creation-token", "story-main")
		},
		func() error {
			return aws.failsWith("ValidationException", "efs", "create-file-system", "--creation-token", strings.Repeat("x", 65))
		},
		func() error {
			return aws.failsWith("FileSystemNotFound", "efs", "describe-file-systems", "--file-system-id", unknownFS)
		},
		func() error {
			return aws.failsWith("FileSystemNotFound", "efs", "delete-file-system", "--file-system-id", unknownFS)
		},
		func() error {
			return aws.failsWith("AccessPointNotFound", "efs", "describe-access-points", "--access-point-id", unknownAP)
		},
		func() error {
			return aws.failsWith("AccessPointNotFound", "efs", "delete-access-point", "--access-point-id", unknownAP)
		},
		func() error {
			return aws.failsWith("MountTargetNotFound", "efs", "describe-mount-targets", "--mount-target-id", unknownMT)
		},
		func() error {
			return aws.failsWith("MountTargetNotFound", "efs", "delete-mount-target", "--mount-target-id", unknownMT)
		},
		func() error {
			return aws.failsWith("PolicyNotFound", "efs", "describe-file-system-policy", "--file-system-id", id)
		},
		func() error {
			return aws.failsWith("InvalidPolicyException", "efs", "put-file-system-policy", "--file-system-id", id,
				"--policy", malformedPolicy)
		},
		func() error {
			return aws.call(nil, "efs", "create-file-system", "--creation-token", "story-2")
		},
		func() error {
			return aws.call(nil, "efs", "create-file-system", "--creation-token", "story-3")
		},
		func() error {
			return aws.call(nil, "efs", "create-file-system", "--creation-token", "story-4")
		},
		func() error {
			return aws.call(nil, "efs", "create-file-system", "--creation-token", "story-5")
		},
	)
	if len(byID.FileSystems) != 1 || len(byToken.FileSystems) != 1 {
		t.Fatalf("describe by id / by token: got %d / %d file systems, want 1 / 1", len(byID.FileSystems), len(byToken.FileSystems))
	}
	checkFS("describe-file-systems --file-system-id", byID.FileSystems[0], "available", 10)
	checkFS("describe-file-systems --creation-token", byToken.FileSystems[0], "available", 10)

	// Five file systems, two per page: the CLI follows NextMarker itself …
	var all wireFileSystems
	aws.must(&all, "efs", "describe-file-systems", "--page-size", "2")
	var allIDs []string
	for _, f := range all.FileSystems {
		allIDs = append(allIDs, f.FileSystemID)
	}
	if len(allIDs) != 5 || !slices.Contains(allIDs, id) || !slices.IsSorted(allIDs) {
		t.Fatalf("describe-file-systems --page-size 2: ids %v, want 5 distinct ones including %s", allIDs, id)
	}
	// … and hands it out as NextToken when we stop after each page.
	var paged []string
	token := ""
	for page := 1; ; page++ {
		args := []string{"efs", "describe-file-systems", "--page-size", "2", "--max-items", "2"}
		if token != "" {
			args = append(args, "--starting-token", token)
		}
		var out wireFileSystems
		aws.must(&out, args...)
		for _, f := range out.FileSystems {
			paged = append(paged, f.FileSystemID)
		}
		if wantLen := min(2, 5-2*(page-1)); len(out.FileSystems) != wantLen {
			t.Fatalf("page %d has %d file systems, want %d", page, len(out.FileSystems), wantLen)
		}
		if token = out.NextToken; token == "" {
			break
		}
		if page == 3 {
			t.Fatalf("page 3 of 5 items by 2 still has a NextToken %q", token)
		}
	}
	if !slices.Equal(paged, allIDs) {
		t.Errorf("paging by 2 gave %v, want %v", paged, allIDs)
	}

	// Throughput: raising provisioned throughput is always allowed, a mode
	// switch once per 24 hours.
	var upd wireFileSystem
	aws.must(&upd, "efs", "update-file-system", "--file-system-id", id, "--provisioned-throughput-in-mibps", "20")
	checkFS("update-file-system to 20 MiB/s", upd, "available", 20)
	upd = wireFileSystem{}
	aws.must(&upd, "efs", "update-file-system", "--file-system-id", id, "--throughput-mode", "bursting")
	if upd.ThroughputMode != "bursting" || upd.ProvisionedThroughputInMibps != nil {
		t.Errorf("after switching to bursting: mode %q, provisioned %v", upd.ThroughputMode, upd.ProvisionedThroughputInMibps)
	}
	aws.mustFail("TooManyRequests", "efs", "update-file-system", "--file-system-id", id, "--throughput-mode", "elastic")

	// Tags on the file system, with keys and values that need escaping in
	// the signed query string and body; the Name follows the Name tag.
	aws.must(nil, "efs", "tag-resource", "--resource-id", id, "--tags", "Key=env,Value=test",
		"Key=cost center,Value=a b=c ü", "Key=Name,Value=message wall ☃")
	var tags struct{ Tags []wireTag }
	aws.must(&tags, "efs", "list-tags-for-resource", "--resource-id", id)
	if want := map[string]string{"Name": "message wall ☃", "team": "wall", "env": "test", "cost center": "a b=c ü"}; !maps.Equal(tagMap(tags.Tags), want) {
		t.Errorf("tags after tag-resource = %v, want %v", tags.Tags, want)
	}
	aws.must(nil, "efs", "untag-resource", "--resource-id", id, "--tag-keys", "cost center", "team")
	tags.Tags = nil
	aws.must(&tags, "efs", "list-tags-for-resource", "--resource-id", id)
	if want := map[string]string{"Name": "message wall ☃", "env": "test"}; !maps.Equal(tagMap(tags.Tags), want) {
		t.Errorf("tags after untag-resource = %v, want %v", tags.Tags, want)
	}
	var renamed wireFileSystems
	aws.must(&renamed, "efs", "describe-file-systems", "--file-system-id", s.fsArn(id))
	if len(renamed.FileSystems) != 1 || renamed.FileSystems[0].Name != "message wall ☃" {
		t.Errorf("describe-file-systems by ARN after renaming = %+v, want Name %q", renamed.FileSystems, "message wall ☃")
	}

	// An access point with a POSIX identity and a root directory to create.
	var ap wireAccessPoint
	aws.must(&ap, "efs", "create-access-point", "--file-system-id", id,
		"--posix-user", `{"Uid":1001,"Gid":1001,"SecondaryGids":[2000]}`,
		"--root-directory", `{"Path":"/message","CreationInfo":{"OwnerUid":1001,"OwnerGid":1001,"Permissions":"750"}}`,
		"--tags", "Key=Name,Value=wall-ap")
	apID := ap.AccessPointID
	checkAP := func(what string, got wireAccessPoint) {
		t.Helper()
		ok := got.AccessPointID == apID && fsapIDPattern.MatchString(apID) && got.AccessPointArn == s.apArn(apID) &&
			got.FileSystemID == id && got.OwnerID == s.AccountID && got.Name == "wall-ap" && got.ClientToken != "" &&
			got.PosixUser != nil && got.PosixUser.UID == 1001 && got.PosixUser.GID == 1001 &&
			slices.Equal(got.PosixUser.SecondaryGIDs, []int64{2000}) &&
			got.RootDirectory != nil && got.RootDirectory.Path == "/message" && got.RootDirectory.CreationInfo != nil &&
			*got.RootDirectory.CreationInfo == wireCreationInfo{OwnerUID: 1001, OwnerGID: 1001, Permissions: "750"}
		if !ok {
			b, _ := json.Marshal(got)
			t.Errorf("%s: got %s\nwant %s (%s) on %s, uid/gid 1001 +2000, root /message created 1001:1001 750, Name wall-ap",
				what, b, apID, s.apArn(apID), id)
		}
	}
	checkAP("create-access-point", ap)

	var mt wireMountTarget
	var apsByID, apsByFS struct{ AccessPoints []wireAccessPoint }
	var apTags struct{ Tags []wireTag }
	testserver.Parallel(t,
		func() error { return aws.call(&apsByID, "efs", "describe-access-points", "--access-point-id", apID) },
		func() error { return aws.call(&apsByFS, "efs", "describe-access-points", "--file-system-id", id) },
		func() error { return aws.call(&apTags, "efs", "list-tags-for-resource", "--resource-id", apID) },
		func() error {
			return aws.failsWith("FileSystemInUse", "efs", "delete-file-system", "--file-system-id", id)
		},
		func() error {
			return aws.call(&mt, "efs", "create-mount-target", "--file-system-id", id, "--subnet-id", "subnet-0123456789abcdef0")
		},
	)
	if len(apsByID.AccessPoints) != 1 || len(apsByFS.AccessPoints) != 1 {
		t.Fatalf("describe-access-points by id / by fs: %d / %d, want 1 / 1", len(apsByID.AccessPoints), len(apsByFS.AccessPoints))
	}
	checkAP("describe-access-points --access-point-id", apsByID.AccessPoints[0])
	checkAP("describe-access-points --file-system-id", apsByFS.AccessPoints[0])
	if apsByID.AccessPoints[0].LifeCycleState != "available" {
		t.Errorf("access point LifeCycleState = %q, want available", apsByID.AccessPoints[0].LifeCycleState)
	}
	if want := map[string]string{"Name": "wall-ap"}; !maps.Equal(tagMap(apTags.Tags), want) {
		t.Errorf("access point tags = %v, want %v", apTags.Tags, want)
	}

	// The mount target.
	mtID := mt.MountTargetID
	if !fsmtIDPattern.MatchString(mtID) || mt.FileSystemID != id || mt.SubnetID != "subnet-0123456789abcdef0" ||
		mt.OwnerID != s.AccountID || mt.IPAddress == "" || mt.AvailabilityZoneName == "" {
		t.Errorf("create-mount-target = %+v", mt)
	}
	var mtsByFS, mtsByID, mtsByAP struct{ MountTargets []wireMountTarget }
	var withMT wireFileSystems
	testserver.Parallel(t,
		func() error {
			return aws.failsWith("MountTargetConflict", "efs", "create-mount-target", "--file-system-id", id,
				"--subnet-id", "subnet-0123456789abcdef1")
		},
		func() error { return aws.call(&mtsByFS, "efs", "describe-mount-targets", "--file-system-id", id) },
		func() error { return aws.call(&mtsByID, "efs", "describe-mount-targets", "--mount-target-id", mtID) },
		func() error { return aws.call(&mtsByAP, "efs", "describe-mount-targets", "--access-point-id", apID) },
		func() error { return aws.call(&withMT, "efs", "describe-file-systems", "--file-system-id", id) },
	)
	for what, got := range map[string][]wireMountTarget{"by fs": mtsByFS.MountTargets, "by id": mtsByID.MountTargets, "by ap": mtsByAP.MountTargets} {
		if len(got) != 1 || got[0].MountTargetID != mtID || got[0].LifeCycleState != "available" || got[0].IPAddress != mt.IPAddress {
			t.Errorf("describe-mount-targets %s = %+v, want %s available at %s", what, got, mtID, mt.IPAddress)
		}
	}
	if len(withMT.FileSystems) != 1 || withMT.FileSystems[0].NumberOfMountTargets != 1 {
		t.Errorf("describe-file-systems with a mount target = %+v, want NumberOfMountTargets 1", withMT.FileSystems)
	}

	// The file-system policy.
	var pol wirePolicy
	aws.must(&pol, "efs", "put-file-system-policy", "--file-system-id", id, "--policy", readOnlyPolicy)
	if pol.FileSystemID != id || !sameJSON(pol.Policy, readOnlyPolicy) {
		t.Errorf("put-file-system-policy = %+v", pol)
	}
	pol = wirePolicy{}
	aws.must(&pol, "efs", "describe-file-system-policy", "--file-system-id", id)
	if pol.FileSystemID != id || !sameJSON(pol.Policy, readOnlyPolicy) {
		t.Errorf("describe-file-system-policy = %+v, want the policy just put", pol)
	}
	aws.must(nil, "efs", "delete-file-system-policy", "--file-system-id", id)
	aws.mustFail("PolicyNotFound", "efs", "describe-file-system-policy", "--file-system-id", id)

	// Tear down: the mount target alone still keeps the file system in use.
	aws.must(nil, "efs", "delete-access-point", "--access-point-id", apID)
	aws.mustFail("FileSystemInUse", "efs", "delete-file-system", "--file-system-id", id)
	aws.must(nil, "efs", "delete-mount-target", "--mount-target-id", mtID)
	aws.must(nil, "efs", "delete-file-system", "--file-system-id", id)
	testserver.Parallel(t,
		func() error {
			return aws.failsWith("FileSystemNotFound", "efs", "describe-file-systems", "--file-system-id", id)
		},
		func() error {
			return aws.failsWith("AccessPointNotFound", "efs", "describe-access-points", "--access-point-id", apID)
		},
		func() error {
			return aws.failsWith("MountTargetNotFound", "efs", "describe-mount-targets", "--mount-target-id", mtID)
		},
		func() error {
			var rest wireFileSystems
			if err := aws.call(&rest, "efs", "describe-file-systems"); err != nil {
				return err
			}
			if len(rest.FileSystems) != 4 {
				return fmt.Errorf("after deleting one of five, describe-file-systems lists %d", len(rest.FileSystems))
			}
			return nil
		},
	)
}

// TestAWSCLIRejectsBadCredentials checks that a request signed with the
// wrong secret or an unknown key never reaches the API.
func TestAWSCLIRejectsBadCredentials(t *testing.T) {
	t.Parallel()
	requireAWSCLI(t)
	s := startServer(t, newDataDir(t))
	wrongSecret := newAWSCLI(t, s.Endpoint, s.Region, s.AccessKeyID, strings.Repeat("A", 40))
	unknownKey := newAWSCLI(t, s.Endpoint, s.Region, "AKIAIOSFODNN7EXAMPLE", s.SecretAccessKey)
	testserver.Parallel(t,
		func() error {
			return wrongSecret.failsWith("InvalidSignatureException", "efs", "create-file-system", "--creation-token", "nope")
		},
		func() error {
			return unknownKey.failsWith("UnrecognizedClientException", "efs", "describe-file-systems")
		},
	)
	// Nothing was created by the rejected call.
	var all wireFileSystems
	s.awsCLI(t).must(&all, "efs", "describe-file-systems")
	if len(all.FileSystems) != 0 {
		t.Errorf("a rejected create left %d file systems", len(all.FileSystems))
	}
}
