package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/efs/types"
	_ "modernc.org/sqlite"
)

// fsState is everything the API tells about one file system.
type fsState struct {
	FileSystem   types.FileSystemDescription
	Tags         map[string]string
	AccessPoints []types.AccessPointDescription
	APTags       map[string]map[string]string
	MountTargets []types.MountTargetDescription
	Policy       string
}

// snapshot reads every record through the API and renders it as JSON, so
// that two snapshots compare as text and differences print readably.
func snapshot(t *testing.T, c *efs.Client) string {
	t.Helper()
	ctx := context.Background()
	all, _, err := allFileSystems(ctx, c, 100)
	if err != nil {
		t.Fatalf("snapshot: list file systems: %v", err)
	}
	var out []fsState
	for _, f := range all {
		id := f.FileSystemId
		f.SizeInBytes.Timestamp = nil // the time of the reading, not state
		st := fsState{FileSystem: f, APTags: map[string]map[string]string{}}
		tags, err := c.ListTagsForResource(ctx, &efs.ListTagsForResourceInput{ResourceId: id})
		if err != nil {
			t.Fatalf("snapshot: tags of %s: %v", *id, err)
		}
		st.Tags = sdkTags(tags.Tags)
		aps, err := c.DescribeAccessPoints(ctx, &efs.DescribeAccessPointsInput{FileSystemId: id})
		if err != nil {
			t.Fatalf("snapshot: access points of %s: %v", *id, err)
		}
		st.AccessPoints = aps.AccessPoints
		for _, ap := range aps.AccessPoints {
			tags, err := c.ListTagsForResource(ctx, &efs.ListTagsForResourceInput{ResourceId: ap.AccessPointId})
			if err != nil {
				t.Fatalf("snapshot: tags of %s: %v", *ap.AccessPointId, err)
			}
			st.APTags[*ap.AccessPointId] = sdkTags(tags.Tags)
		}
		mts, err := c.DescribeMountTargets(ctx, &efs.DescribeMountTargetsInput{FileSystemId: id})
		if err != nil {
			t.Fatalf("snapshot: mount targets of %s: %v", *id, err)
		}
		st.MountTargets = mts.MountTargets
		pol, err := c.DescribeFileSystemPolicy(ctx, &efs.DescribeFileSystemPolicyInput{FileSystemId: id})
		var nf *types.PolicyNotFound
		switch {
		case errors.As(err, &nf):
		case err != nil:
			t.Fatalf("snapshot: policy of %s: %v", *id, err)
		default:
			st.Policy = aws.ToString(pol.Policy)
		}
		out = append(out, st)
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// populate creates one file system with every kind of record and returns
// its id.
func populate(t *testing.T, c *efs.Client, token string) string {
	t.Helper()
	ctx := context.Background()
	f, err := c.CreateFileSystem(ctx, &efs.CreateFileSystemInput{CreationToken: aws.String(token),
		ThroughputMode: types.ThroughputModeProvisioned, ProvisionedThroughputInMibps: aws.Float64(5),
		Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String(token)}, {Key: aws.String("k"), Value: aws.String("v")}}})
	if err != nil {
		t.Fatalf("CreateFileSystem: %v", err)
	}
	id := f.FileSystemId
	// A mode switch starts the 24-hour quiet period, which must persist too.
	if _, err := c.UpdateFileSystem(ctx, &efs.UpdateFileSystemInput{FileSystemId: id, ThroughputMode: types.ThroughputModeElastic}); err != nil {
		t.Fatalf("UpdateFileSystem: %v", err)
	}
	if _, err := c.CreateAccessPoint(ctx, &efs.CreateAccessPointInput{FileSystemId: id,
		PosixUser: &types.PosixUser{Uid: aws.Int64(1001), Gid: aws.Int64(1001)},
		RootDirectory: &types.RootDirectory{Path: aws.String("/message"), CreationInfo: &types.CreationInfo{
			OwnerUid: aws.Int64(1001), OwnerGid: aws.Int64(1001), Permissions: aws.String("750")}},
		Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String(token + "-ap")}}}); err != nil {
		t.Fatalf("CreateAccessPoint: %v", err)
	}
	if _, err := c.CreateMountTarget(ctx, &efs.CreateMountTargetInput{FileSystemId: id, SubnetId: aws.String("subnet-0123456789abcdef0")}); err != nil {
		t.Fatalf("CreateMountTarget: %v", err)
	}
	if _, err := c.PutFileSystemPolicy(ctx, &efs.PutFileSystemPolicyInput{FileSystemId: id, Policy: aws.String(readOnlyPolicy)}); err != nil {
		t.Fatalf("PutFileSystemPolicy: %v", err)
	}
	return *id
}

func requireSame(t *testing.T, what, before, after string) {
	t.Helper()
	if before != after {
		t.Fatalf("%s: state differs\nbefore:\n%s\nafter:\n%s", what, before, after)
	}
}

// TestStateSurvivesCleanRestart stops a server with SIGTERM and starts a new
// one on the same data directory: same account, same keys, same records.
func TestStateSurvivesCleanRestart(t *testing.T) {
	t.Parallel()
	dir := newDataDir(t)
	s1 := startServer(t, dir)
	if !strings.Contains(s1.Output(), "(created)") {
		t.Errorf("first start does not say it created the data directory:\n%s", s1.Output())
	}
	id := populate(t, s1.sdk(), "restart-1")
	populate(t, s1.sdk(), "restart-2")
	before := snapshot(t, s1.sdk())
	s1.Stop()

	s2 := startServer(t, dir)
	if !strings.Contains(s2.Output(), "(opened)") {
		t.Errorf("second start does not say it opened the data directory:\n%s", s2.Output())
	}
	if s2.AccountID != s1.AccountID || s2.AccessKeyID != s1.AccessKeyID || s2.SecretAccessKey != s1.SecretAccessKey {
		t.Errorf("after restart: account %s key %s, want account %s key %s (and the same secret)",
			s2.AccountID, s2.AccessKeyID, s1.AccountID, s1.AccessKeyID)
	}
	// The old credentials still sign requests.
	c := sdkClient(s2.Endpoint, s2.Region, s1.AccessKeyID, s1.SecretAccessKey)
	requireSame(t, "clean restart", before, snapshot(t, c))
	_, err := c.UpdateFileSystem(context.Background(), &efs.UpdateFileSystemInput{FileSystemId: aws.String(id), ThroughputMode: types.ThroughputModeBursting})
	wantAPIError(t, "a mode switch right after the restart", err, "TooManyRequests")
}

// TestStateSurvivesKill kills the server with SIGKILL after each change and
// checks that the change is there after a restart.
func TestStateSurvivesKill(t *testing.T) {
	t.Parallel()
	dir := newDataDir(t)
	s := startServer(t, dir)
	ctx := context.Background()
	var fsID, apID, mtID string
	steps := []struct {
		name string
		do   func(c *efs.Client) error
	}{
		{"create file system", func(c *efs.Client) error {
			f, err := c.CreateFileSystem(ctx, &efs.CreateFileSystemInput{CreationToken: aws.String("kill-1"),
				Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("kill")}}})
			if err == nil {
				fsID = *f.FileSystemId
			}
			return err
		}},
		{"tag", func(c *efs.Client) error {
			_, err := c.TagResource(ctx, &efs.TagResourceInput{ResourceId: &fsID, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("crash")}}})
			return err
		}},
		{"create access point", func(c *efs.Client) error {
			ap, err := c.CreateAccessPoint(ctx, &efs.CreateAccessPointInput{FileSystemId: &fsID,
				PosixUser:     &types.PosixUser{Uid: aws.Int64(7), Gid: aws.Int64(8)},
				RootDirectory: &types.RootDirectory{Path: aws.String("/a/b")}})
			if err == nil {
				apID = *ap.AccessPointId
			}
			return err
		}},
		{"create mount target", func(c *efs.Client) error {
			mt, err := c.CreateMountTarget(ctx, &efs.CreateMountTargetInput{FileSystemId: &fsID, SubnetId: aws.String("subnet-0123456789abcdef0")})
			if err == nil {
				mtID = *mt.MountTargetId
			}
			return err
		}},
		{"put policy", func(c *efs.Client) error {
			_, err := c.PutFileSystemPolicy(ctx, &efs.PutFileSystemPolicyInput{FileSystemId: &fsID, Policy: aws.String(readOnlyPolicy)})
			return err
		}},
		{"update throughput", func(c *efs.Client) error {
			_, err := c.UpdateFileSystem(ctx, &efs.UpdateFileSystemInput{FileSystemId: &fsID,
				ThroughputMode: types.ThroughputModeProvisioned, ProvisionedThroughputInMibps: aws.Float64(3)})
			return err
		}},
		{"untag", func(c *efs.Client) error {
			_, err := c.UntagResource(ctx, &efs.UntagResourceInput{ResourceId: &fsID, TagKeys: []string{"env"}})
			return err
		}},
		{"delete policy", func(c *efs.Client) error {
			_, err := c.DeleteFileSystemPolicy(ctx, &efs.DeleteFileSystemPolicyInput{FileSystemId: &fsID})
			return err
		}},
		{"delete access point", func(c *efs.Client) error {
			_, err := c.DeleteAccessPoint(ctx, &efs.DeleteAccessPointInput{AccessPointId: &apID})
			return err
		}},
		{"delete mount target", func(c *efs.Client) error {
			_, err := c.DeleteMountTarget(ctx, &efs.DeleteMountTargetInput{MountTargetId: &mtID})
			return err
		}},
		{"delete file system", func(c *efs.Client) error {
			_, err := c.DeleteFileSystem(ctx, &efs.DeleteFileSystemInput{FileSystemId: &fsID})
			return err
		}},
	}
	for _, step := range steps {
		if err := step.do(s.sdk()); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		before := snapshot(t, s.sdk())
		s.Kill()
		// A killed server leaves server.json behind; the next start replaces it.
		if _, err := os.Stat(filepath.Join(dir, "server.json")); err != nil {
			t.Errorf("after kill -9: %v", err)
		}
		s = startServer(t, dir)
		requireSame(t, "kill -9 after "+step.name, before, snapshot(t, s.sdk()))
	}
	if got := snapshot(t, s.sdk()); got != "null" {
		t.Errorf("everything was deleted, yet the API lists %s", got)
	}
}

// TestCreatesThatSucceededSurviveKillDuringBurst kills the server while
// several clients create file systems. Every create that returned success
// must be there after a restart, and every record must be whole; a client
// that saw its connection drop retries with the same creation token and
// gets either a new file system or FileSystemAlreadyExists, never two.
func TestCreatesThatSucceededSurviveKillDuringBurst(t *testing.T) {
	t.Parallel()
	dir := newDataDir(t)
	s := startServer(t, dir)
	const workers, killAfter = 4, 40

	var mu sync.Mutex
	succeeded := map[string]string{} // creation token → file system id
	var unknown []string             // tokens whose create got no answer
	stop := make(chan struct{})
	enough := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := s.sdk()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				token := fmt.Sprintf("burst-%d-%d", w, i)
				out, err := c.CreateFileSystem(context.Background(), &efs.CreateFileSystemInput{CreationToken: aws.String(token),
					Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String(token)}}})
				mu.Lock()
				if err != nil {
					unknown = append(unknown, token)
					mu.Unlock()
					return // the server is gone
				}
				succeeded[token] = *out.FileSystemId
				if len(succeeded) == killAfter {
					close(enough)
				}
				mu.Unlock()
			}
		}()
	}
	select {
	case <-enough:
	case <-time.After(time.Minute):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("only %d creates succeeded before the burst stalled (in flight or failed: %v)", len(succeeded), unknown)
	}
	s.Kill()
	close(stop)
	wg.Wait()
	t.Logf("%d creates succeeded, %d were in flight at the kill", len(succeeded), len(unknown))

	s = startServer(t, dir)
	c := s.sdk()
	all, _, err := allFileSystems(context.Background(), c, 100)
	if err != nil {
		t.Fatalf("list after restart: %v", err)
	}
	found := map[string]types.FileSystemDescription{}
	for _, f := range all {
		token := aws.ToString(f.CreationToken)
		if _, dup := found[token]; dup {
			t.Errorf("two file systems with creation token %s", token)
		}
		found[token] = f
		// Whole records: the Name tag went in with the row.
		if aws.ToString(f.Name) != token || len(f.Tags) != 1 {
			t.Errorf("file system %s (token %s) has Name %q and tags %v", aws.ToString(f.FileSystemId), token, aws.ToString(f.Name), sdkTags(f.Tags))
		}
		if f.LifeCycleState == types.LifeCycleStateAvailable {
			continue
		}
		t.Errorf("file system %s (token %s) is %s after the restart", aws.ToString(f.FileSystemId), token, f.LifeCycleState)
	}
	for token, id := range succeeded {
		f, ok := found[token]
		if !ok || aws.ToString(f.FileSystemId) != id {
			t.Errorf("create %s returned %s, but after the restart the API has %v", token, id, f.FileSystemId)
		}
	}
	for _, token := range unknown {
		if _, ok := found[token]; !ok {
			continue
		}
		// Committed before the kill: the retry must say so.
		_, err := c.CreateFileSystem(context.Background(), &efs.CreateFileSystemInput{CreationToken: aws.String(token)})
		var exists *types.FileSystemAlreadyExists
		if !errors.As(err, &exists) || aws.ToString(exists.FileSystemId) != aws.ToString(found[token].FileSystemId) {
			t.Errorf("retrying in-flight create %s: %v, want FileSystemAlreadyExists naming %s", token, err, aws.ToString(found[token].FileSystemId))
		}
	}
	if len(found) < len(succeeded) || len(found) > len(succeeded)+len(unknown) {
		t.Errorf("after the restart %d file systems exist; %d creates succeeded and %d were in flight", len(found), len(succeeded), len(unknown))
	}
}

// TestSecondServerOnSameDataDirFails starts a second server on a data
// directory in use: it must refuse with a clear message and leave the first
// one serving.
func TestSecondServerOnSameDataDirFails(t *testing.T) {
	t.Parallel()
	dir := newDataDir(t)
	s := startServer(t, dir)
	infoBefore, _ := os.ReadFile(filepath.Join(dir, "server.json"))

	r := tarn(t, "", nil, "server", "--data", dir, "--listen", "127.0.0.1:0")
	if r.Code == 0 || !strings.Contains(r.Stderr, "in use") || !strings.Contains(r.Stderr, dir) {
		t.Errorf("second tarn server on %s: exit %d, stderr %q; want a failure saying the directory is in use", dir, r.Code, r.Stderr)
	}
	infoAfter, _ := os.ReadFile(filepath.Join(dir, "server.json"))
	if string(infoBefore) != string(infoAfter) {
		t.Errorf("the refused server rewrote server.json:\n%s\nwas:\n%s", infoAfter, infoBefore)
	}
	if _, err := s.sdk().DescribeFileSystems(context.Background(), &efs.DescribeFileSystemsInput{}); err != nil {
		t.Errorf("the first server stopped serving: %v", err)
	}
	s.Stop()
}

// TestFileSystemInErrorStateRefusesChanges provokes
// IncorrectFileSystemLifeCycleState: a file system whose provisioning failed
// is left in state "error" (efsapi marks it so), and changes to it must be
// refused. No API call puts a file system in that state, so the test writes
// it into the stopped server's database; it knows the file_systems table of
// internal/store for that one reason.
func TestFileSystemInErrorStateRefusesChanges(t *testing.T) {
	t.Parallel()
	dir := newDataDir(t)
	s := startServer(t, dir)
	ctx := context.Background()
	f, err := s.sdk().CreateFileSystem(ctx, &efs.CreateFileSystemInput{CreationToken: aws.String("broken")})
	if err != nil {
		t.Fatalf("CreateFileSystem: %v", err)
	}
	id := f.FileSystemId
	s.Stop()

	setFileSystemState(t, dir, *id, "error")

	s = startServer(t, dir)
	c := s.sdk()
	got, err := c.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: id})
	if err != nil || len(got.FileSystems) != 1 || got.FileSystems[0].LifeCycleState != types.LifeCycleStateError {
		t.Fatalf("DescribeFileSystems = %+v, %v; want it in state error", got, err)
	}
	_, err = c.UpdateFileSystem(ctx, &efs.UpdateFileSystemInput{FileSystemId: id, ThroughputMode: types.ThroughputModeElastic})
	wantAPIError(t, "UpdateFileSystem", err, "IncorrectFileSystemLifeCycleState")
	_, err = c.CreateMountTarget(ctx, &efs.CreateMountTargetInput{FileSystemId: id, SubnetId: aws.String("subnet-0123456789abcdef0")})
	wantAPIError(t, "CreateMountTarget", err, "IncorrectFileSystemLifeCycleState")
	_, err = c.CreateAccessPoint(ctx, &efs.CreateAccessPointInput{FileSystemId: id, ClientToken: aws.String("ap-on-broken")})
	wantAPIError(t, "CreateAccessPoint", err, "IncorrectFileSystemLifeCycleState")
	// It can still be deleted.
	if _, err := c.DeleteFileSystem(ctx, &efs.DeleteFileSystemInput{FileSystemId: id}); err != nil {
		t.Errorf("DeleteFileSystem of a file system in error: %v", err)
	}
}

// TestFileSystemLeftCreatingByACrashBecomesAvailable reproduces a crash
// between the two steps of CreateFileSystem (the record is inserted in state
// "creating", then marked "available" in a second transaction): a file system
// that the crash left "creating" must not stay so, or its creation token is
// burnt and it can never get a mount target or access point. As in the test
// above, the state is written into the stopped server's database.
func TestFileSystemLeftCreatingByACrashBecomesAvailable(t *testing.T) {
	t.Parallel()
	dir := newDataDir(t)
	s := startServer(t, dir)
	ctx := context.Background()
	f, err := s.sdk().CreateFileSystem(ctx, &efs.CreateFileSystemInput{CreationToken: aws.String("interrupted")})
	if err != nil {
		t.Fatalf("CreateFileSystem: %v", err)
	}
	id := f.FileSystemId
	s.Stop()
	setFileSystemState(t, dir, *id, "creating")

	s = startServer(t, dir)
	var state types.LifeCycleState
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := s.sdk().DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: id})
		if err != nil || len(got.FileSystems) != 1 {
			t.Fatalf("DescribeFileSystems = %+v, %v", got, err)
		}
		state = got.FileSystems[0].LifeCycleState
		if state != types.LifeCycleStateCreating || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if state != types.LifeCycleStateAvailable {
		t.Errorf("after restart the interrupted file system is %s, want available", state)
	}
}

// setFileSystemState writes a file system's state into a stopped server's
// database (the file_systems table of internal/store).
func setFileSystemState(t *testing.T, dir, id, state string) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, "tarn.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(`UPDATE file_systems SET state = ? WHERE id = ?`, state, id)
	if err != nil {
		t.Fatalf("set state of %s to %s: %v", id, state, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("set state of %s: %d rows changed, want 1", id, n)
	}
}

// TestServerStopsCleanlyOnSignal stops servers with SIGINT and SIGTERM: exit
// status 0, server.json removed, a farewell on stderr, and the data
// directory's key file private to its owner.
func TestServerStopsCleanlyOnSignal(t *testing.T) {
	t.Parallel()
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			dir := newDataDir(t)
			s := startServer(t, dir)
			fi, err := os.Stat(filepath.Join(dir, "keys", "root.json"))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("keys/root.json: %v, mode %v; want 0600", err, fi.Mode().Perm())
			}
			if _, err := s.sdk().DescribeFileSystems(context.Background(), &efs.DescribeFileSystemsInput{}); err != nil {
				t.Fatalf("DescribeFileSystems: %v", err)
			}
			s.StopWith(sig)
			if !strings.Contains(s.Output(), "tarn: stopped") {
				t.Errorf("no farewell after %v:\n%s", sig, s.Output())
			}
		})
	}
}

// TestConcurrentCreatesWithOneTokenMakeOneFileSystem races clients that
// create with the same creation token (or access points with the same
// client token): exactly one wins, the others learn its id.
func TestConcurrentCreatesWithOneTokenMakeOneFileSystem(t *testing.T) {
	t.Parallel()
	s := startServer(t, newDataDir(t))
	ctx := context.Background()
	const clients = 8
	race := func(create func(c *efs.Client) (string, error), existing func(error) (string, bool)) (winners []string, named []string) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id, err := create(s.sdk())
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					winners = append(winners, id)
					return
				}
				if id, ok := existing(err); ok {
					named = append(named, id)
					return
				}
				t.Errorf("create: %v", err)
			}()
		}
		wg.Wait()
		return winners, named
	}

	winners, named := race(func(c *efs.Client) (string, error) {
		out, err := c.CreateFileSystem(ctx, &efs.CreateFileSystemInput{CreationToken: aws.String("contended")})
		if err != nil {
			return "", err
		}
		return *out.FileSystemId, nil
	}, func(err error) (string, bool) {
		var e *types.FileSystemAlreadyExists
		if errors.As(err, &e) {
			return aws.ToString(e.FileSystemId), true
		}
		return "", false
	})
	if len(winners) != 1 || len(named) != clients-1 {
		t.Fatalf("%d concurrent creates with one token: %d succeeded, %d got FileSystemAlreadyExists", clients, len(winners), len(named))
	}
	for _, id := range named {
		if id != winners[0] {
			t.Errorf("FileSystemAlreadyExists names %s, but %s was created", id, winners[0])
		}
	}
	fsID := winners[0]

	winners, named = race(func(c *efs.Client) (string, error) {
		out, err := c.CreateAccessPoint(ctx, &efs.CreateAccessPointInput{FileSystemId: &fsID, ClientToken: aws.String("contended-ap")})
		if err != nil {
			return "", err
		}
		return *out.AccessPointId, nil
	}, func(err error) (string, bool) {
		var e *types.AccessPointAlreadyExists
		if errors.As(err, &e) {
			return aws.ToString(e.AccessPointId), true
		}
		return "", false
	})
	if len(winners) != 1 || len(named) != clients-1 {
		t.Fatalf("%d concurrent access point creates with one token: %d succeeded, %d got AccessPointAlreadyExists", clients, len(winners), len(named))
	}
	for _, id := range named {
		if id != winners[0] {
			t.Errorf("AccessPointAlreadyExists names %s, but %s was created", id, winners[0])
		}
	}
	all, _, err := allFileSystems(ctx, s.sdk(), 100)
	if err != nil || len(all) != 1 {
		t.Errorf("after the race %d file systems exist (%v), want 1", len(all), err)
	}
}
