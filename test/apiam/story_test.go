package apiam

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"tarn.dev/tarn/internal/testserver"
	"testing"
)

// describePolicy lets a user find a file system, which `tarn mount` does
// before it mounts.
const describePolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
	`"Action":"elasticfilesystem:DescribeFileSystems","Resource":"*"}]}`

const managedPrefix = "arn:aws:iam::aws:policy/"

// TestAccessPointsAndClientAccessStory is the story, driven with the
// AWS CLI and `tarn mount`: two access points confine and re-own what goes
// through them, and IAM decides at mount time who mounts, who writes and
// whose root is squashed.
func TestAccessPointsAndClientAccessStory(t *testing.T) {
	requireMounts(t)
	s := startServer(t)
	root := s.aws(t, s.Root)
	base := baseDir(t)

	fsID, aps := createFileSystem(t, root, "story",
		[]string{"--posix-user", "Uid=1001,Gid=1001",
			"--root-directory", "Path=/message,CreationInfo={OwnerUid=1001,OwnerGid=1001,Permissions=750}"},
		[]string{"--posix-user", "Uid=2002,Gid=2002",
			"--root-directory", "Path=/other,CreationInfo={OwnerUid=2002,OwnerGid=2002,Permissions=750}"},
		[]string{"--posix-user", "Uid=3003,Gid=3003", "--root-directory", "Path=/absent"},
		[]string{"--posix-user", "Uid=0,Gid=0",
			"--root-directory", "Path=/rootap,CreationInfo={OwnerUid=0,OwnerGid=0,Permissions=777}"},
	)
	apMessage, apOther, apAbsent, apRoot := aps[0].AccessPointId, aps[1].AccessPointId, aps[2].AccessPointId, aps[3].AccessPointId
	mp := func(name string) string { return mkdirs(t, base, name)[0] }

	// With no file-system policy the default one gives the root key
	// everything: two access point mounts and a plain one.
	msg, other, plain := mp("msg-mnt"), mp("other-mnt"), mp("plain-mnt")
	if out := s.mustMount(t, nil, fsID, msg, apMessage); !strings.Contains(out, "through "+apMessage) || strings.Contains(out, "read-only") {
		t.Errorf("tarn mount through %s printed %q, want a read-write mount through it", apMessage, out)
	}
	s.mustMount(t, nil, fsID, other, apOther)
	s.mustMount(t, nil, fsID, plain, "")

	t.Run("each access point sees only its own tree", func(t *testing.T) {
		write(t, filepath.Join(msg, "hello.txt"), "from the message access point", 0o644)
		mkdir(t, filepath.Join(msg, "sub"), 0o755)
		write(t, filepath.Join(msg, "sub", "deep.txt"), "deep", 0o600)
		write(t, filepath.Join(other, "x.txt"), "from the other access point", 0o644)

		if got, want := names(t, plain), []string{"message", "other"}; !slices.Equal(got, want) {
			t.Errorf("plain mount lists %q, want %q", got, want)
		}
		if got, want := names(t, msg), []string{"hello.txt", "sub"}; !slices.Equal(got, want) {
			t.Errorf("mount through %s lists %q, want %q", apMessage, got, want)
		}
		if got, want := names(t, other), []string{"x.txt"}; !slices.Equal(got, want) {
			t.Errorf("mount through %s lists %q, want %q", apOther, got, want)
		}
		for _, p := range []string{"other", "message", "other/x.txt", "sub/../other", "message/hello.txt"} {
			if _, err := os.Stat(msg + "/" + p); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("stat %s through %s: %v, want it not to exist", p, apMessage, err)
			}
		}
		if got := read(t, filepath.Join(plain, "other", "x.txt")); got != "from the other access point" {
			t.Errorf("plain mount reads other/x.txt as %q", got)
		}
	})

	t.Run("access point roots and files have the forced owners", func(t *testing.T) {
		cases := []struct {
			path           string
			uid, gid, perm uint32
		}{
			{"message", 1001, 1001, 0o750},
			{"message/hello.txt", 1001, 1001, 0o644},
			{"message/sub", 1001, 1001, 0o755},
			{"message/sub/deep.txt", 1001, 1001, 0o600},
			{"other", 2002, 2002, 0o750},
			{"other/x.txt", 2002, 2002, 0o644},
		}
		for _, c := range cases {
			uid, gid, perm := owner(t, filepath.Join(plain, c.path))
			if uid != c.uid || gid != c.gid || perm != c.perm {
				t.Errorf("%s on the plain mount: %d:%d %#o, want %d:%d %#o", c.path, uid, gid, perm, c.uid, c.gid, c.perm)
			}
		}
		// The mount root is the access point's root directory.
		if uid, gid, perm := owner(t, msg); uid != 1001 || gid != 1001 || perm != 0o750 {
			t.Errorf("root of the mount through %s: %d:%d %#o, want 1001:1001 0750", apMessage, uid, gid, perm)
		}
	})

	t.Run("access point without CreationInfo and a missing root fails to mount", func(t *testing.T) {
		dir := mp("absent-mnt")
		r := s.mount(t, nil, fsID, dir, apAbsent)
		if r.Code == 0 || !strings.Contains(r.Stderr, "/absent") || !strings.Contains(r.Stderr, "does not exist") {
			t.Errorf("tarn mount through %s: exit %d, stderr %q; want a failure naming /absent as missing", apAbsent, r.Code, r.Stderr)
		}
		if isMounted(dir) {
			t.Errorf("%s is mounted after a failed mount", dir)
		}
		if _, err := os.Stat(filepath.Join(plain, "absent")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("stat /absent after the failed mount: %v, want it not created", err)
		}
	})

	// Files the IAM part reads and writes, created by root on the plain
	// mount: one anybody may read, one only root may, and a drop box.
	write(t, filepath.Join(plain, "readme"), "public", 0o644)
	write(t, filepath.Join(plain, "root-only"), "root only", 0o600)
	mkdir(t, filepath.Join(plain, "drop"), 0o777|os.ModeSticky)

	// Users, each with the permission to find the file system:
	// reader has the managed read-only client policy, fsreader is allowed to
	// mount by the file-system policy alone, squashed may write but not act
	// as root, denied is allowed everything by its identity policy but denied
	// by the file-system policy, and stranger is allowed nothing.
	users := []struct {
		name    string
		managed string
	}{
		{"reader", "AmazonElasticFileSystemClientReadOnlyAccess"},
		{"fsreader", ""},
		{"squashed", "AmazonElasticFileSystemClientReadWriteAccess"},
		{"denied", "AmazonElasticFileSystemClientFullAccess"},
		{"stranger", ""},
		{"managedonly", "AmazonElasticFileSystemClientReadOnlyAccess"},
		{"apwriter", ""},
	}
	keys := make(map[string]*key, len(users))
	steps := make([]func() error, len(users))
	for i, u := range users {
		k := &key{}
		keys[u.name] = k
		steps[i] = func() error {
			if err := root.call(nil, "iam", "create-user", "--user-name", u.name); err != nil {
				return err
			}
			var out struct {
				AccessKey struct{ AccessKeyId, SecretAccessKey string }
			}
			if err := root.call(&out, "iam", "create-access-key", "--user-name", u.name); err != nil {
				return err
			}
			k.ID, k.Secret = out.AccessKey.AccessKeyId, out.AccessKey.SecretAccessKey
			if u.managed != "" {
				if err := root.call(nil, "iam", "attach-user-policy", "--user-name", u.name, "--policy-arn", managedPrefix+u.managed); err != nil {
					return err
				}
			}
			if u.name == "managedonly" {
				return nil
			}
			return root.call(nil, "iam", "put-user-policy", "--user-name", u.name, "--policy-name", "find-file-systems",
				"--policy-document", describePolicy)
		}
	}
	testserver.Parallel(t, steps...)

	policy := fmt.Sprintf(`{
  "Version": "2012-10-17",
  "Id": "story",
  "Statement": [
    {
      "Sid": "fsreader-may-mount-read-only",
      "Effect": "Allow",
      "Principal": {"AWS": %[1]q},
      "Action": "elasticfilesystem:ClientMount",
      "Resource": %[2]q
    },
    {
      "Sid": "apwriter-may-mount",
      "Effect": "Allow",
      "Principal": {"AWS": %[4]q},
      "Action": "elasticfilesystem:ClientMount",
      "Resource": %[2]q
    },
    {
      "Sid": "apwriter-may-write-through-message-only",
      "Effect": "Allow",
      "Principal": {"AWS": %[4]q},
      "Action": "elasticfilesystem:ClientWrite",
      "Resource": %[2]q,
      "Condition": {"StringEquals": {"elasticfilesystem:AccessPointArn": %[5]q}}
    },
    {
      "Sid": "denied-may-not-mount",
      "Effect": "Deny",
      "Principal": {"AWS": %[3]q},
      "Action": "elasticfilesystem:*",
      "Resource": %[2]q
    }
  ]
}`, s.userArn("fsreader"), s.fsArn(fsID), s.userArn("denied"), s.userArn("apwriter"), aps[0].AccessPointArn)
	policyPath := filepath.Join(t.TempDir(), "policy.json")
	write(t, policyPath, policy, 0o644)
	root.must(nil, "efs", "put-file-system-policy", "--file-system-id", fsID, "--policy", "file://"+policyPath)

	t.Run("malformed policies are refused with their position", func(t *testing.T) {
		cases := []struct {
			name, doc, want string
			identity        bool // malformed as an identity policy too
		}{
			{"syntax error", "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\" \"Action\": \"x\"}\n  ]\n}",
				"line 4, column 24", true},
			{"unknown effect", "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Perhaps\", \"Principal\": {\"AWS\": \"*\"}, \"Action\": \"elasticfilesystem:ClientMount\"}\n  ]\n}",
				"line 4, column 16", true},
			{"no principal", "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"elasticfilesystem:ClientMount\"}\n  ]\n}",
				"line 4, column 5", false},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "policy.json")
				write(t, path, c.doc, 0o644)
				msg := root.mustFail("InvalidPolicyException", "efs", "put-file-system-policy", "--file-system-id", fsID, "--policy", "file://"+path)
				if !strings.Contains(msg, c.want) {
					t.Errorf("put-file-system-policy: %s\nwant the position %q", msg, c.want)
				}
				if !c.identity {
					return
				}
				msg = root.mustFail("MalformedPolicyDocument", "iam", "put-user-policy", "--user-name", "reader",
					"--policy-name", "malformed", "--policy-document", "file://"+path)
				if !strings.Contains(msg, c.want) {
					t.Errorf("put-user-policy: %s\nwant the position %q", msg, c.want)
				}
			})
		}
		// Nothing was stored: the policies in force are the ones before.
		var fsPolicy struct{ Policy string }
		root.must(&fsPolicy, "efs", "describe-file-system-policy", "--file-system-id", fsID)
		if !strings.Contains(fsPolicy.Policy, "fsreader-may-mount-read-only") {
			t.Errorf("file-system policy after the refused puts: %s, want the story's", fsPolicy.Policy)
		}
		var inline struct{ PolicyNames []string }
		root.must(&inline, "iam", "list-user-policies", "--user-name", "reader")
		if want := []string{"find-file-systems"}; !slices.Equal(inline.PolicyNames, want) {
			t.Errorf("reader's inline policies after the refused put: %q, want %q", inline.PolicyNames, want)
		}
	})

	t.Run("read-only by the managed identity policy", func(t *testing.T) {
		dir := mp("reader-mnt")
		if out := s.mustMount(t, keys["reader"], fsID, dir, ""); !strings.Contains(out, "(read-only)") {
			t.Errorf("tarn mount as reader printed %q, want a read-only mount", out)
		}
		checkReadOnly(t, dir, "readme", "public")
		// No ClientRootAccess either: root is squashed.
		if _, err := os.ReadFile(filepath.Join(dir, "root-only")); errno(err) != syscall.EACCES {
			t.Errorf("read root-only as squashed root: %v, want EACCES", err)
		}
		if m := s.mounts(t)[dir]; !m.ReadOnly || !m.SquashRoot || m.AccessPointID != "" {
			t.Errorf("tarn mount lists %s as %+v, want read-only and root squashed", dir, m)
		}
	})

	t.Run("read-only by the managed identity policy through an access point", func(t *testing.T) {
		dir := mp("reader-ap-mnt")
		if out := s.mustMount(t, keys["reader"], fsID, dir, apMessage); !strings.Contains(out, "(read-only)") {
			t.Errorf("tarn mount as reader through %s printed %q, want a read-only mount", apMessage, out)
		}
		checkReadOnly(t, dir, "hello.txt", "from the message access point")
		if m := s.mounts(t)[dir]; !m.ReadOnly || m.AccessPointID != apMessage {
			t.Errorf("tarn mount lists %s as %+v, want read-only through %s", dir, m, apMessage)
		}
	})

	t.Run("read-only by the file-system policy", func(t *testing.T) {
		dir := mp("fsreader-mnt")
		if out := s.mustMount(t, keys["fsreader"], fsID, dir, ""); !strings.Contains(out, "(read-only)") {
			t.Errorf("tarn mount as fsreader printed %q, want a read-only mount", out)
		}
		checkReadOnly(t, dir, "readme", "public")
	})

	t.Run("write allowed only through the access point the policy names", func(t *testing.T) {
		cases := []struct {
			ap       string
			readOnly bool
		}{
			{apMessage, false},
			{apOther, true},
			{"", true},
		}
		for _, c := range cases {
			dir := mp("apwriter-mnt" + c.ap)
			out := s.mustMount(t, keys["apwriter"], fsID, dir, c.ap)
			if got := strings.Contains(out, "(read-only)"); got != c.readOnly {
				t.Errorf("tarn mount as apwriter through %q printed %q, want read-only %v", c.ap, out, c.readOnly)
			}
			err := os.WriteFile(filepath.Join(dir, "apwriter.txt"), []byte("x"), 0o644)
			if c.readOnly && errno(err) != syscall.EROFS || !c.readOnly && err != nil {
				t.Errorf("write as apwriter through %q: %v, want read-only %v", c.ap, err, c.readOnly)
			}
		}
		if uid, gid, _ := owner(t, filepath.Join(plain, "message", "apwriter.txt")); uid != 1001 || gid != 1001 {
			t.Errorf("apwriter's file through %s is owned by %d:%d, want 1001:1001", apMessage, uid, gid)
		}
	})

	t.Run("no ClientMount is AccessDeniedException", func(t *testing.T) {
		for _, user := range []string{"denied", "stranger"} {
			for _, ap := range []string{"", apMessage} {
				dir := mp(user + "-mnt" + ap)
				r := s.mount(t, keys[user], fsID, dir, ap)
				if r.Code == 0 || !strings.Contains(r.Stderr, "AccessDeniedException") ||
					!strings.Contains(r.Stderr, s.userArn(user)) || !strings.Contains(r.Stderr, "elasticfilesystem:ClientMount") {
					t.Errorf("tarn mount as %s (access point %q): exit %d, stderr %q; want AccessDeniedException naming the user and ClientMount",
						user, ap, r.Code, r.Stderr)
				}
				if isMounted(dir) {
					t.Errorf("%s is mounted after a denied mount", dir)
				}
			}
		}
	})

	t.Run("no ClientRootAccess squashes root", func(t *testing.T) {
		dir := mp("squashed-mnt")
		if out := s.mustMount(t, keys["squashed"], fsID, dir, ""); strings.Contains(out, "read-only") {
			t.Errorf("tarn mount as squashed printed %q, want a read-write mount", out)
		}
		if _, err := os.ReadFile(filepath.Join(dir, "root-only")); errno(err) != syscall.EACCES {
			t.Errorf("read root-only as squashed root: %v, want EACCES", err)
		}
		if got := read(t, filepath.Join(dir, "readme")); got != "public" {
			t.Errorf("readme through the squashed mount: %q", got)
		}
		write(t, filepath.Join(dir, "drop", "squashed.txt"), "by squashed root", 0o644)
		if uid, gid, _ := owner(t, filepath.Join(plain, "drop", "squashed.txt")); uid != 65534 || gid != 65534 {
			t.Errorf("file made by squashed root is owned by %d:%d, want 65534:65534", uid, gid)
		}
		if err := os.WriteFile(filepath.Join(dir, "top.txt"), nil, 0o644); errno(err) != syscall.EACCES {
			t.Errorf("create in root's directory as squashed root: %v, want EACCES", err)
		}
		if m := s.mounts(t)[dir]; m.ReadOnly || !m.SquashRoot {
			t.Errorf("tarn mount lists %s as %+v, want read-write with root squashed", dir, m)
		}
	})

	t.Run("an access point user of uid 0 is squashed without ClientRootAccess", func(t *testing.T) {
		cases := []struct {
			user     string
			k        *key
			uid, gid uint32
		}{
			{"squashed", keys["squashed"], 65534, 65534},
			{"root", nil, 0, 0},
		}
		for _, c := range cases {
			dir := mp(c.user + "-rootap-mnt")
			s.mustMount(t, c.k, fsID, dir, apRoot)
			name := "by-" + c.user
			write(t, filepath.Join(dir, name), c.user, 0o644)
			if uid, gid, _ := owner(t, filepath.Join(plain, "rootap", name)); uid != c.uid || gid != c.gid {
				t.Errorf("file written by %s through %s (PosixUser 0) is owned by %d:%d, want %d:%d", c.user, apRoot, uid, gid, c.uid, c.gid)
			}
		}
	})

	t.Run("the root key keeps full access under the policy", func(t *testing.T) {
		dir := mp("root-again-mnt")
		s.mustMount(t, nil, fsID, dir, "")
		if got := read(t, filepath.Join(dir, "root-only")); got != "root only" {
			t.Errorf("root-only through a new root mount: %q", got)
		}
		if m := s.mounts(t)[dir]; m.ReadOnly || m.SquashRoot {
			t.Errorf("tarn mount lists %s as %+v, want read-write, root not squashed", dir, m)
		}
		if r := s.tarn(t, nil, "umount", dir); r.Code != 0 || isMounted(dir) {
			t.Errorf("tarn umount %s: exit %d %s; still mounted: %v", dir, r.Code, r.Stderr, isMounted(dir))
		}
	})

	t.Run("the managed read-only policy alone is enough to mount", func(t *testing.T) {
		dir := mp("managedonly-mnt")
		r := s.mount(t, keys["managedonly"], fsID, dir, "")
		if r.Code != 0 || !strings.Contains(r.Stdout, "(read-only)") {
			t.Errorf("tarn mount as managedonly: exit %d, %s%s; want a read-only mount", r.Code, r.Stdout, r.Stderr)
		}
	})

	// None of the refused writes left anything behind.
	if got, want := names(t, plain), []string{"drop", "message", "other", "readme", "root-only", "rootap"}; !slices.Equal(got, want) {
		t.Errorf("plain mount lists %q at the end, want %q", got, want)
	}
	if got, want := names(t, filepath.Join(plain, "drop")), []string{"squashed.txt"}; !slices.Equal(got, want) {
		t.Errorf("drop lists %q at the end, want %q", got, want)
	}
}

// checkReadOnly checks that a mount reads file as content and refuses
// every kind of write with EROFS.
func checkReadOnly(t *testing.T, dir, file, content string) {
	t.Helper()
	if got := read(t, filepath.Join(dir, file)); got != content {
		t.Errorf("%s through the read-only mount: %q, want %q", file, got, content)
	}
	writes := []struct {
		name string
		do   func() error
	}{
		{"create", func() error { return os.WriteFile(filepath.Join(dir, "new.txt"), []byte("x"), 0o644) }},
		{"mkdir", func() error { return os.Mkdir(filepath.Join(dir, "newdir"), 0o755) }},
		{"open for writing", func() error {
			f, err := os.OpenFile(filepath.Join(dir, file), os.O_WRONLY, 0)
			if err == nil {
				f.Close()
			}
			return err
		}},
		{"chmod", func() error { return os.Chmod(filepath.Join(dir, file), 0o777) }},
		{"rename", func() error { return os.Rename(filepath.Join(dir, file), filepath.Join(dir, "renamed")) }},
		{"unlink", func() error { return os.Remove(filepath.Join(dir, file)) }},
		{"symlink", func() error { return os.Symlink(file, filepath.Join(dir, "link")) }},
	}
	for _, w := range writes {
		if err := w.do(); errno(err) != syscall.EROFS {
			t.Errorf("%s on the read-only mount %s: %v, want EROFS", w.name, dir, err)
		}
	}
	if got := read(t, filepath.Join(dir, file)); got != content {
		t.Errorf("%s after the refused writes: %q, want %q", file, got, content)
	}
}

func write(t *testing.T, path, content string, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // past the umask
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, path string, perm os.FileMode) {
	t.Helper()
	if err := os.Mkdir(path, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(b)
}
