package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os/exec"
	"reflect"
	"slices"
	"testing"
	"time"
)

// botoFS is the view of a file system the script prints.
type botoFS struct {
	FileSystemID                 string `json:"FileSystemId"`
	FileSystemArn                string
	OwnerID                      string `json:"OwnerId"`
	CreationToken                string
	LifeCycleState               string
	Name                         string
	Size                         int64
	Encrypted                    bool
	ThroughputMode               string
	ProvisionedThroughputInMibps *float64
	NumberOfMountTargets         int
	Tags                         map[string]string
}

// botoSummary is what testdata/efs_boto3.py prints.
type botoSummary struct {
	Created              botoFS
	ByID                 []botoFS `json:"by_id"`
	ByToken              []botoFS `json:"by_token"`
	Pages                [][]string
	FirstPageNextMarker  bool              `json:"first_page_next_marker"`
	SecondPageMarkerEcho bool              `json:"second_page_marker_echo"`
	Updated              botoFS            `json:"updated"`
	TagsAfterTag         map[string]string `json:"tags_after_tag"`
	TagsAfterUntag       map[string]string `json:"tags_after_untag"`
	AP                   wireAccessPoint   `json:"ap"`
	APByID               []string          `json:"ap_by_id"`
	APByFS               []string          `json:"ap_by_fs"`
	MT                   wireMountTarget   `json:"mt"`
	MTByFS               []string          `json:"mt_by_fs"`
	MTByID               []string          `json:"mt_by_id"`
	Policy               string
	Errors               map[string]string
}

// TestBoto3DrivesTheWholeEFSAPI runs the same story as the AWS CLI test
// through boto3's efs client, in one Python process.
func TestBoto3DrivesTheWholeEFSAPI(t *testing.T) {
	t.Parallel()
	requireBoto3(t)
	s := startServer(t, newDataDir(t))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, pythonPath, "testdata/efs_boto3.py")
	cmd.Env = append(baseEnv(t.TempDir()),
		"TARN_ENDPOINT="+s.Endpoint,
		"AWS_ACCESS_KEY_ID="+s.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+s.SecretAccessKey,
		"AWS_DEFAULT_REGION="+s.Region,
		"AWS_MAX_ATTEMPTS=1",
		"AWS_EC2_METADATA_DISABLED=true",
		"POLICY="+readOnlyPolicy,
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("efs_boto3.py: %v\n%s%s", err, stderr.String(), stdout.String())
	}
	var got botoSummary
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("decode summary: %v\n%s", err, stdout.String())
	}

	id := got.Created.FileSystemID
	if !fsIDPattern.MatchString(id) {
		t.Fatalf("FileSystemId = %q, want %v", id, fsIDPattern)
	}
	mibps := func(v float64) *float64 { return &v }
	wantFS := botoFS{FileSystemID: id, FileSystemArn: s.fsArn(id), OwnerID: s.AccountID, CreationToken: "boto-main",
		LifeCycleState: "creating", Name: "boto", Size: 6144, Encrypted: true, ThroughputMode: "provisioned",
		ProvisionedThroughputInMibps: mibps(8), Tags: map[string]string{"Name": "boto", "lang": "python"}}
	checkFS := func(what string, got, want botoFS) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Errorf("%s = %s\nwant %s", what, g, w)
		}
	}
	checkFS("create_file_system", got.Created, wantFS)
	wantFS.LifeCycleState = "available"
	if len(got.ByID) != 1 || len(got.ByToken) != 1 {
		t.Fatalf("describe by id / by token returned %d / %d file systems", len(got.ByID), len(got.ByToken))
	}
	checkFS("describe_file_systems(FileSystemId)", got.ByID[0], wantFS)
	checkFS("describe_file_systems(CreationToken)", got.ByToken[0], wantFS)
	wantFS.ProvisionedThroughputInMibps = mibps(16)
	checkFS("update_file_system", got.Updated, wantFS)

	// Five file systems in pages of two, each seen once.
	var paged []string
	for _, p := range got.Pages {
		paged = append(paged, p...)
	}
	if len(got.Pages) != 3 || len(got.Pages[2]) != 1 || len(paged) != 5 || !slices.IsSorted(paged) || !slices.Contains(paged, id) {
		t.Errorf("paginate(PageSize=2) = %v, want pages of 2, 2 and 1 with 5 distinct sorted ids including %s", got.Pages, id)
	}
	if !got.FirstPageNextMarker || !got.SecondPageMarkerEcho {
		t.Errorf("MaxItems=2 gave NextMarker %v; the next page echoed it as Marker: %v", got.FirstPageNextMarker, got.SecondPageMarkerEcho)
	}

	if want := map[string]string{"Name": "boto", "lang": "python", "env": "test"}; !maps.Equal(got.TagsAfterTag, want) {
		t.Errorf("tags after tag_resource = %v, want %v", got.TagsAfterTag, want)
	}
	if want := map[string]string{"Name": "boto", "env": "test"}; !maps.Equal(got.TagsAfterUntag, want) {
		t.Errorf("tags after untag_resource = %v, want %v", got.TagsAfterUntag, want)
	}

	ap := got.AP
	if !fsapIDPattern.MatchString(ap.AccessPointID) || ap.AccessPointArn != s.apArn(ap.AccessPointID) || ap.FileSystemID != id ||
		ap.Name != "boto-ap" || ap.OwnerID != s.AccountID || ap.PosixUser == nil || ap.PosixUser.UID != 1001 ||
		ap.PosixUser.GID != 1001 || ap.RootDirectory == nil || ap.RootDirectory.Path != "/message" ||
		ap.RootDirectory.CreationInfo == nil || ap.RootDirectory.CreationInfo.Permissions != "750" ||
		ap.RootDirectory.CreationInfo.OwnerUID != 1001 || ap.RootDirectory.CreationInfo.OwnerGID != 1001 {
		b, _ := json.Marshal(ap)
		t.Errorf("create_access_point = %s", b)
	}
	if want := []string{ap.AccessPointID}; !slices.Equal(got.APByID, want) || !slices.Equal(got.APByFS, want) {
		t.Errorf("describe_access_points by id %v, by fs %v, want %v", got.APByID, got.APByFS, want)
	}
	if !fsmtIDPattern.MatchString(got.MT.MountTargetID) || got.MT.FileSystemID != id || got.MT.IPAddress == "" {
		t.Errorf("create_mount_target = %+v", got.MT)
	}
	if want := []string{got.MT.MountTargetID}; !slices.Equal(got.MTByFS, want) || !slices.Equal(got.MTByID, want) {
		t.Errorf("describe_mount_targets by fs %v, by id %v, want %v", got.MTByFS, got.MTByID, want)
	}
	if !sameJSON(got.Policy, readOnlyPolicy) {
		t.Errorf("describe_file_system_policy = %s, want %s", got.Policy, readOnlyPolicy)
	}

	wantErrors := map[string]string{
		"reused_token":        "FileSystemAlreadyExists",
		"long_token":          "ValidationException",
		"second_mode_switch":  "TooManyRequests",
		"delete_fs_with_ap":   "FileSystemInUse",
		"second_mount_target": "MountTargetConflict",
		"no_policy":           "PolicyNotFound",
		"bad_policy":          "InvalidPolicyException",
		"deleted_policy":      "PolicyNotFound",
		"delete_fs_with_mt":   "FileSystemInUse",
		"deleted_fs":          "FileSystemNotFound",
		"deleted_ap":          "AccessPointNotFound",
		"deleted_mt":          "MountTargetNotFound",
		"wrong_secret":        "InvalidSignatureException",
		"unknown_key":         "UnrecognizedClientException",
	}
	for name, want := range wantErrors {
		if got.Errors[name] != want {
			t.Errorf("error %s = %q, want %s", name, got.Errors[name], want)
		}
	}
}
