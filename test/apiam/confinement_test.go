package apiam

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestAccessPointConfinement attacks a mount through an access point (uid
// 1001 at /message) from inside and checks that every attempt either stays
// inside /message, resolves on the host, or is refused with a clear errno,
// and that nothing outside /message changed.
func TestAccessPointConfinement(t *testing.T) {
	requireMounts(t)
	s := startServer(t)
	aws := s.aws(t, s.Root)
	base := baseDir(t)
	fsID, aps := createFileSystem(t, aws, "confinement",
		[]string{"--posix-user", "Uid=1001,Gid=1001",
			"--root-directory", "Path=/message,CreationInfo={OwnerUid=1001,OwnerGid=1001,Permissions=750}"},
		[]string{"--posix-user", "Uid=2002,Gid=2002",
			"--root-directory", "Path=/other,CreationInfo={OwnerUid=2002,OwnerGid=2002,Permissions=750}"},
	)
	// Host paths that the attacks' targets would name if they resolved on
	// the host must not exist, or an attack could not be told from a host
	// lookup: the mount points' names avoid "message" and "other".
	dirs := mkdirs(t, base, "plain-mnt", "ap/msg", "ap2/oth", "host")
	plain, msg, oth, host := dirs[0], dirs[1], dirs[2], dirs[3]
	for _, p := range []string{"/other", "/message", filepath.Join(base, "other")} {
		if _, err := os.Lstat(p); err == nil {
			t.Fatalf("the host has %s, which the attacks below name: remove it", p)
		}
	}
	s.mustMount(t, nil, fsID, plain, "")
	s.mustMount(t, nil, fsID, msg, aps[0].AccessPointId)
	s.mustMount(t, nil, fsID, oth, aps[1].AccessPointId)

	// The secret lives outside /message; no attack may ever read it.
	secret := randomToken(t)
	mkdir(t, filepath.Join(oth, "d"), 0o755)
	write(t, filepath.Join(oth, "d", "secret"), secret, 0o640)
	write(t, filepath.Join(oth, "x"), "other x", 0o644)
	write(t, filepath.Join(plain, "topsecret"), secret, 0o644)
	write(t, filepath.Join(msg, "inside.txt"), "inside", 0o644)
	mkdir(t, filepath.Join(msg, "sub"), 0o755)
	mkdir(t, filepath.Join(msg, "sub", "d"), 0o755)
	write(t, filepath.Join(msg, "sub", "d", "secret"), "decoy inside", 0o644)
	write(t, filepath.Join(host, "hostfile"), "host side", 0o644)
	before := snapshot(t, plain)

	// noSecret fails t if content holds the secret.
	noSecret := func(t *testing.T, what string, content []byte) {
		t.Helper()
		if strings.Contains(string(content), secret) {
			t.Errorf("%s read the secret from outside the access point's root", what)
		}
	}

	t.Run("dot-dot from the root is the host's parent", func(t *testing.T) {
		if got, want := names(t, msg+"/.."), []string{"msg"}; !slices.Equal(got, want) {
			t.Errorf("ls %s/..: %q, want the host directory's %q", msg, got, want)
		}
		parent := statOf(t, filepath.Dir(msg))
		for _, p := range []string{"..", "../", "sub/../..", "../msg/..", "./../."} {
			if got := statOf(t, msg+"/"+p); got != parent {
				t.Errorf("stat %s/%s = %v, want the host's %s %v", msg, p, got, filepath.Dir(msg), parent)
			}
		}
		for _, p := range []string{"../other", "../../other/d/secret", "sub/../../other", "sub/d/../../../other/x", "../topsecret"} {
			b, err := os.ReadFile(msg + "/" + p)
			noSecret(t, p, b)
			if errno(err) != syscall.ENOENT && errno(err) != syscall.EISDIR {
				t.Errorf("read %s/%s: %v, want ENOENT as on the host", msg, p, err)
			}
		}
		// openat(root fd, "..") also leaves the mount for the host.
		fd, err := unix.Open(msg, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		up, err := unix.Openat(fd, "..", unix.O_RDONLY|unix.O_DIRECTORY, 0)
		if err != nil {
			t.Fatalf("openat(%s, ..): %v", msg, err)
		}
		defer unix.Close(up)
		var st unix.Stat_t
		if err := unix.Fstat(up, &st); err != nil {
			t.Fatal(err)
		}
		if got := (devIno{st.Dev, st.Ino}); got != parent {
			t.Errorf("openat(%s, ..) is %v, want the host's parent %v", msg, got, parent)
		}
	})

	t.Run("symlinks resolve on the host or inside the root", func(t *testing.T) {
		links := []struct{ at, target string }{
			{"abs-host", host},
			{"abs-other", "/other/d/secret"},
			{"abs-other-dir", "/other"},
			{"abs-top", "/topsecret"},
			{"rel-up1", "../other/d/secret"},
			{"rel-up2", "../../other/d/secret"},
			{"rel-deep", strings.Repeat("../", 12) + "other/d/secret"},
			{"dir-up", ".."},
			{"c1", "c2"},
			{"c2", "sub/c3"},
			{"sub/c3", "../../../other/d/secret"},
			{"sub/up", ".."},
			{"sub/inside", "../inside.txt"},
		}
		for _, l := range links {
			if err := os.Symlink(l.target, filepath.Join(msg, l.at)); err != nil {
				t.Fatalf("symlink %s -> %s: %v", l.at, l.target, err)
			}
			if got, err := os.Readlink(filepath.Join(msg, l.at)); err != nil || got != l.target {
				t.Errorf("readlink %s = %q, %v; want the target verbatim %q", l.at, got, err, l.target)
			}
		}
		cases := []struct {
			path string
			want string // content, or "" for ENOENT
		}{
			{"abs-host/hostfile", "host side"},
			{"abs-other", ""},
			{"abs-other-dir/d/secret", ""},
			{"abs-top", ""},
			{"rel-up1", ""},
			{"rel-up2", ""},
			{"rel-deep", ""},
			{"dir-up/other/d/secret", ""},
			{"dir-up/msg/inside.txt", "inside"},
			{"c1", ""},
			{"sub/up/sub/up/../other/d/secret", ""},
			{"sub/up/sub/inside", "inside"},
			{"sub/up/sub/d/secret", "decoy inside"},
		}
		for _, c := range cases {
			b, err := os.ReadFile(filepath.Join(msg, c.path))
			noSecret(t, c.path, b)
			switch {
			case c.want == "" && errno(err) != syscall.ENOENT:
				t.Errorf("read %s: %q, %v; want ENOENT", c.path, b, err)
			case c.want != "" && (err != nil || string(b) != c.want):
				t.Errorf("read %s: %q, %v; want %q", c.path, b, err, c.want)
			}
		}
	})

	t.Run("a symlink swapped by a racing rename never leads outside", func(t *testing.T) {
		// The link alternates between a directory inside and targets that
		// would reach /other if ".." or "/" resolved in the file system.
		targets := []string{"sub", "..", "../..", "/other", "../../other", "sub/../.."}
		const swaps = 300
		link := filepath.Join(msg, "race")
		done := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		var inside, refused int
		var bad []string
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-done:
						return
					default:
					}
					b, err := os.ReadFile(filepath.Join(link, "d", "secret"))
					mu.Lock()
					switch {
					case err == nil && string(b) == "decoy inside":
						inside++
					case err != nil && (errno(err) == syscall.ENOENT || errno(err) == syscall.ENOTDIR):
						refused++
					default:
						bad = append(bad, fmt.Sprintf("%q, %v", b, err))
					}
					mu.Unlock()
				}
			}()
		}
		for i := range swaps {
			tmp := filepath.Join(msg, fmt.Sprintf("race-%d", i))
			if err := os.Symlink(targets[i%len(targets)], tmp); err != nil {
				t.Error(err)
				break
			}
			if err := os.Rename(tmp, link); err != nil {
				t.Error(err)
				break
			}
		}
		close(done)
		wg.Wait()
		for _, b := range bad {
			noSecret(t, "open through the racing link", []byte(b))
			t.Errorf("open through the racing link: %s; want the inside file or ENOENT", b)
		}
		t.Logf("%d opens reached the inside file, %d were refused", inside, refused)
	})

	t.Run("hard links across the boundary fail with EXDEV", func(t *testing.T) {
		links := []struct{ from, to string }{
			{filepath.Join(plain, "other", "d", "secret"), filepath.Join(msg, "stolen")},
			{filepath.Join(oth, "d", "secret"), filepath.Join(msg, "stolen")},
			{filepath.Join(plain, "topsecret"), filepath.Join(msg, "stolen")},
			{filepath.Join(msg, "inside.txt"), filepath.Join(oth, "leak")},
			{filepath.Join(msg, "inside.txt"), filepath.Join(plain, "other", "leak")},
		}
		for _, l := range links {
			if err := os.Link(l.from, l.to); errno(err) != syscall.EXDEV {
				t.Errorf("link %s %s: %v, want EXDEV", l.from, l.to, err)
			}
		}
		// By file descriptor: linkat(AT_EMPTY_PATH) and /proc/self/fd.
		src, err := unix.Open(filepath.Join(plain, "other", "d", "secret"), unix.O_RDONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(src)
		dst, err := unix.Open(msg, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(dst)
		if err := unix.Linkat(src, "", dst, "stolen", unix.AT_EMPTY_PATH); errno(err) != syscall.EXDEV {
			t.Errorf("linkat(secret fd, AT_EMPTY_PATH) into the access point: %v, want EXDEV", err)
		}
		if err := unix.Linkat(unix.AT_FDCWD, fmt.Sprintf("/proc/self/fd/%d", src), dst, "stolen", unix.AT_SYMLINK_FOLLOW); errno(err) != syscall.EXDEV {
			t.Errorf("linkat(/proc/self/fd of the secret) into the access point: %v, want EXDEV", err)
		}
		if _, err := os.Lstat(filepath.Join(msg, "stolen")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("stolen exists after the refused links: %v", err)
		}
	})

	t.Run("renames across the boundary fail with EXDEV", func(t *testing.T) {
		renames := []struct{ from, to string }{
			{filepath.Join(msg, "inside.txt"), filepath.Join(oth, "moved")},
			{filepath.Join(msg, "sub"), filepath.Join(plain, "moved")},
			{filepath.Join(msg, "sub"), filepath.Join(msg, "..", "moved")},
			{filepath.Join(oth, "x"), filepath.Join(msg, "x")},
			{filepath.Join(plain, "other", "d"), filepath.Join(msg, "d")},
			{filepath.Join(plain, "topsecret"), filepath.Join(msg, "topsecret")},
		}
		for _, r := range renames {
			if err := os.Rename(r.from, r.to); errno(err) != syscall.EXDEV {
				t.Errorf("rename %s %s: %v, want EXDEV", r.from, r.to, err)
			}
		}
		if err := unix.Renameat2(unix.AT_FDCWD, filepath.Join(msg, "inside.txt"), unix.AT_FDCWD, filepath.Join(oth, "x"),
			unix.RENAME_EXCHANGE); errno(err) != syscall.EXDEV {
			t.Errorf("renameat2(RENAME_EXCHANGE) across the boundary: %v, want EXDEV", err)
		}
	})

	t.Run("open_by_handle_at cannot name files outside the root", func(t *testing.T) {
		mfd, err := unix.Open(msg, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(mfd)
		pfd, err := unix.Open(plain, unix.O_RDONLY|unix.O_DIRECTORY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(pfd)
		refused := func(err error) bool {
			switch errno(err) {
			case syscall.ESTALE, syscall.EOPNOTSUPP, syscall.EINVAL, syscall.EPERM:
				return true
			}
			return false
		}
		// Handles of real files outside /message, from the plain mount.
		for _, p := range []string{"other/d/secret", "other/d", "other", "topsecret"} {
			h, _, err := unix.NameToHandleAt(unix.AT_FDCWD, filepath.Join(plain, p), 0)
			if err != nil {
				t.Logf("name_to_handle_at %s: %v; using a FUSE handle made from its inode number", p, err)
				h = fuseHandle(statOf(t, filepath.Join(plain, p)).Ino, 0)
			}
			if fd, err := unix.OpenByHandleAt(pfd, h, unix.O_RDONLY); err == nil {
				unix.Close(fd)
			} else {
				t.Logf("open_by_handle_at %s through the plain mount (control): %v", p, err)
			}
			fd, err := unix.OpenByHandleAt(mfd, h, unix.O_RDONLY)
			if err == nil {
				b := readFD(fd)
				unix.Close(fd)
				noSecret(t, "open_by_handle_at of "+p, b)
				t.Errorf("open_by_handle_at of %s through the access point succeeded (read %q), want a refusal", p, b)
			} else if !refused(err) {
				t.Errorf("open_by_handle_at of %s through the access point: %v, want ESTALE, EOPNOTSUPP, EINVAL or EPERM", p, err)
			}
		}
		// Every inode number in use, and a few beyond: those that open
		// through the access point must be the root or beneath /message.
		allowed := map[uint64]bool{1: true}
		var maxIno uint64
		err = filepath.WalkDir(plain, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			var st unix.Stat_t
			if err := unix.Lstat(path, &st); err != nil {
				return err
			}
			ino := st.Ino
			maxIno = max(maxIno, ino)
			if rel, _ := filepath.Rel(plain, path); rel == "message" || strings.HasPrefix(rel, "message/") {
				allowed[ino] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		opened := 0
		for ino := uint64(1); ino <= maxIno+16; ino++ {
			fd, err := unix.OpenByHandleAt(mfd, fuseHandle(ino, 0), unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_PATH)
			if err != nil {
				if !refused(err) && errno(err) != syscall.ELOOP {
					t.Errorf("open_by_handle_at of inode %d through the access point: %v, want a refusal", ino, err)
				}
				continue
			}
			var st unix.Stat_t
			unix.Fstat(fd, &st)
			unix.Close(fd)
			opened++
			if !allowed[st.Ino] {
				t.Errorf("open_by_handle_at of inode %d through the access point opened inode %d, which is outside /message", ino, st.Ino)
			}
		}
		t.Logf("of inode numbers 1 to %d, %d opened through the access point, all of them in its tree", maxIno+16, opened)
	})

	t.Run("other uids still act as the access point's user", func(t *testing.T) {
		creds := []*syscall.Credential{
			{Uid: 4242, Gid: 4242},
			{Uid: 2002, Gid: 2002},
			{Uid: 0, Gid: 0, Groups: []uint32{2002}},
			{Uid: 1001, Gid: 1001},
		}
		for _, c := range creds {
			name := fmt.Sprintf("by-%d", c.Uid)
			cmd := exec.Command("/bin/sh", "-c", `id -u > "$1" && cat "$2"`, "sh", filepath.Join(msg, name), filepath.Join(msg, "inside.txt"))
			cmd.Env = baseEnv("/")
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c}
			out, err := cmd.CombinedOutput()
			if err != nil || string(out) != "inside" {
				t.Errorf("write and read through the access point as uid %d: %v: %s", c.Uid, err, out)
				continue
			}
			if uid, gid, _ := owner(t, filepath.Join(plain, "message", name)); uid != 1001 || gid != 1001 {
				t.Errorf("file written as uid %d through the access point is owned by %d:%d, want 1001:1001", c.Uid, uid, gid)
			}
		}
		// Reads of /other as its own uid fail on the host, not in the fs.
		cmd := exec.Command("/bin/cat", filepath.Join(msg, "..", "..", "other", "d", "secret"))
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 2002, Gid: 2002}}
		out, err := cmd.CombinedOutput()
		noSecret(t, "cat as uid 2002", out)
		if err == nil {
			t.Errorf("cat ../../other/d/secret as uid 2002 succeeded: %s", out)
		}

		inside := filepath.Join(msg, "inside.txt")
		chowns := []struct{ uid, gid int }{{2002, 2002}, {0, 0}, {1001, 2002}, {1001, 0}, {4242, 1001}}
		for _, c := range chowns {
			if err := os.Lchown(inside, c.uid, c.gid); errno(err) != syscall.EPERM {
				t.Errorf("chown %d:%d through the access point: %v, want EPERM", c.uid, c.gid, err)
			}
		}
		if err := os.Lchown(inside, 1001, 1001); err != nil {
			t.Errorf("chown to the access point's own user: %v", err)
		}
		if err := unix.Mknod(filepath.Join(msg, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); errno(err) != syscall.EPERM {
			t.Errorf("mknod of a device through the access point: %v, want EPERM", err)
		}
	})

	// Whatever happened, nothing outside /message changed, and everything
	// inside is owned by the access point's user.
	after := snapshot(t, plain)
	for _, p := range union(before, after) {
		if p == "message" || strings.HasPrefix(p, "message/") {
			if a, ok := after[p]; ok && !strings.Contains(a, " 1001:1001 ") {
				t.Errorf("%s after the attacks: %s, want it owned by 1001:1001", p, a)
			}
			continue
		}
		if before[p] != after[p] {
			t.Errorf("%s changed outside the access point's root:\nbefore %q\nafter  %q", p, before[p], after[p])
		}
	}
}

type devIno struct{ Dev, Ino uint64 }

func statOf(t *testing.T, path string) devIno {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	return devIno{st.Dev, st.Ino}
}

// fuseHandle is the file handle the Linux FUSE client makes for node id
// ino (fuse_encode_fh: type 0x81, node id high and low words, generation).
func fuseHandle(ino uint64, gen uint32) unix.FileHandle {
	b := make([]byte, 12)
	binary.LittleEndian.PutUint32(b[0:], uint32(ino>>32))
	binary.LittleEndian.PutUint32(b[4:], uint32(ino))
	binary.LittleEndian.PutUint32(b[8:], gen)
	return unix.NewFileHandle(0x81, b)
}

func readFD(fd int) []byte {
	buf := make([]byte, 4096)
	n, _ := unix.Read(fd, buf)
	return buf[:max(n, 0)]
}

func randomToken(t *testing.T) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "secret-" + hex.EncodeToString(b)
}

// snapshot describes every entry under dir by its relative path: type and
// mode, owner, size, link count, inode, modification and change times, and
// the content's hash or the symlink's target.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		desc := fmt.Sprintf("%o %d:%d size=%d nlink=%d ino=%d mtime=%d.%09d ctime=%d.%09d", st.Mode, st.Uid, st.Gid, st.Size,
			st.Nlink, st.Ino, st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			desc += " -> " + target
		case d.Type().IsRegular():
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(" sha256=%x", sha256.Sum256(b))
		}
		out[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatalf("snapshot %s: %v", dir, err)
	}
	return out
}

func union(a, b map[string]string) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
