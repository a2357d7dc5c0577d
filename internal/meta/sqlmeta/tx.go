package sqlmeta

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"time"

	"tarn.dev/tarn/internal/meta"
)

type sqlTx struct {
	s    *Store
	tx   *sql.Tx
	ctx  context.Context
	pool *sql.DB // the handle tx was begun on, for prepared statements
}

// classify maps driver errors to the meta contract's sentinels.
func (t *sqlTx) classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fs.ErrNotExist
	case t.s.db.d.IsUnique(err):
		return fmt.Errorf("%w: %w", fs.ErrExist, err)
	}
	return t.s.classify(err)
}

// The query helpers run a statement prepared once per connection when one
// is ready (DB.prepared), and the plain query otherwise.

func (t *sqlTx) exec(query string, args ...any) (sql.Result, error) {
	var r sql.Result
	var err error
	if st := t.s.db.prepared(t.pool, query); st != nil {
		r, err = t.tx.StmtContext(t.ctx, st).ExecContext(t.ctx, args...)
	} else {
		r, err = t.tx.ExecContext(t.ctx, t.s.db.q(query), args...)
	}
	return r, t.classify(err)
}

func (t *sqlTx) row(query string, args ...any) *sql.Row {
	if st := t.s.db.prepared(t.pool, query); st != nil {
		return t.tx.StmtContext(t.ctx, st).QueryRowContext(t.ctx, args...)
	}
	return t.tx.QueryRowContext(t.ctx, t.s.db.q(query), args...)
}

func (t *sqlTx) rows(query string, args ...any) (*sql.Rows, error) {
	var r *sql.Rows
	var err error
	if st := t.s.db.prepared(t.pool, query); st != nil {
		r, err = t.tx.StmtContext(t.ctx, st).QueryContext(t.ctx, args...)
	} else {
		r, err = t.tx.QueryContext(t.ctx, t.s.db.q(query), args...)
	}
	return r, t.classify(err)
}

func (t *sqlTx) mustAffect(r sql.Result, what string) error {
	n, err := r.RowsAffected()
	if err != nil {
		return t.classify(err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, fs.ErrNotExist)
	}
	return nil
}

func (t *sqlTx) Next(c meta.Counter, n uint64) (uint64, error) {
	col := ""
	switch c {
	case meta.InoCounter:
		col = "next_ino"
	case meta.SliceCounter:
		col = "next_slice"
	default:
		return 0, fmt.Errorf("next: unknown counter %d", c)
	}
	var v int64
	err := t.row(`UPDATE tarn_fs SET `+col+` = `+col+` + ? WHERE fs = ? RETURNING `+col, int64(n), t.s.fs).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("next %s: %w", col, t.classify(err))
	}
	return uint64(v) - n, nil
}

func (t *sqlTx) Usage() (meta.Usage, error) {
	var u meta.Usage
	err := t.row(`SELECT used_bytes, used_inodes FROM tarn_fs WHERE fs = ?`, t.s.fs).Scan(&u.Bytes, &u.Inodes)
	return u, t.classify(err)
}

func (t *sqlTx) AddUsage(bytes, inodes int64) error {
	if bytes == 0 && inodes == 0 {
		return nil
	}
	_, err := t.exec(`UPDATE tarn_fs SET used_bytes = used_bytes + ?, used_inodes = used_inodes + ? WHERE fs = ?`,
		bytes, inodes, t.s.fs)
	return err
}

const inodeCols = `ino, mode, nlink, uid, gid, rdev, size, atime, mtime, ctime, parent`

type scanner interface{ Scan(...any) error }

func scanInode(r scanner) (meta.Inode, error) {
	var in meta.Inode
	var ino, mode, nlink, uid, gid, rdev, size, at, mt, ct, parent int64
	if err := r.Scan(&ino, &mode, &nlink, &uid, &gid, &rdev, &size, &at, &mt, &ct, &parent); err != nil {
		return in, err
	}
	in = meta.Inode{Ino: meta.Ino(ino), Mode: uint32(mode), Nlink: uint32(nlink), UID: uint32(uid), GID: uint32(gid),
		Rdev: uint32(rdev), Size: uint64(size), Atime: time.Unix(0, at), Mtime: time.Unix(0, mt),
		Ctime: time.Unix(0, ct), Parent: meta.Ino(parent)}
	return in, nil
}

func (t *sqlTx) Inode(ino meta.Ino) (meta.Inode, error) {
	in, err := scanInode(t.row(`SELECT `+inodeCols+` FROM tarn_inode WHERE fs = ? AND ino = ?`, t.s.fs, int64(ino)))
	if err != nil {
		return in, fmt.Errorf("inode %d: %w", ino, t.classify(err))
	}
	return in, nil
}

func inodeArgs(in meta.Inode) []any {
	return []any{int64(in.Mode), int64(in.Nlink), int64(in.UID), int64(in.GID), int64(in.Rdev), int64(in.Size),
		in.Atime.UnixNano(), in.Mtime.UnixNano(), in.Ctime.UnixNano(), int64(in.Parent)}
}

func (t *sqlTx) CreateInode(in meta.Inode) error {
	args := append([]any{t.s.fs, int64(in.Ino)}, inodeArgs(in)...)
	_, err := t.exec(`INSERT INTO tarn_inode (fs, `+inodeCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	if err != nil {
		return fmt.Errorf("create inode %d: %w", in.Ino, err)
	}
	return nil
}

func (t *sqlTx) UpdateInode(in meta.Inode) error {
	args := append(inodeArgs(in), t.s.fs, int64(in.Ino))
	r, err := t.exec(`UPDATE tarn_inode SET mode = ?, nlink = ?, uid = ?, gid = ?, rdev = ?, size = ?, atime = ?,
		mtime = ?, ctime = ?, parent = ? WHERE fs = ? AND ino = ?`, args...)
	if err != nil {
		return fmt.Errorf("update inode %d: %w", in.Ino, err)
	}
	return t.mustAffect(r, fmt.Sprintf("update inode %d", in.Ino))
}

func (t *sqlTx) DeleteInode(ino meta.Ino) error {
	if err := t.DeleteExtents(ino, 0); err != nil {
		return err
	}
	for _, tab := range []string{"tarn_symlink", "tarn_xattr"} {
		if _, err := t.exec(`DELETE FROM `+tab+` WHERE fs = ? AND ino = ?`, t.s.fs, int64(ino)); err != nil {
			return fmt.Errorf("delete inode %d: %w", ino, err)
		}
	}
	r, err := t.exec(`DELETE FROM tarn_inode WHERE fs = ? AND ino = ?`, t.s.fs, int64(ino))
	if err != nil {
		return fmt.Errorf("delete inode %d: %w", ino, err)
	}
	return t.mustAffect(r, fmt.Sprintf("delete inode %d", ino))
}

func (t *sqlTx) Inodes(fn func(meta.Inode) error) error {
	rows, err := t.rows(`SELECT `+inodeCols+` FROM tarn_inode WHERE fs = ? ORDER BY ino`, t.s.fs)
	if err != nil {
		return err
	}
	var all []meta.Inode
	for rows.Next() {
		in, err := scanInode(rows)
		if err != nil {
			rows.Close()
			return t.classify(err)
		}
		all = append(all, in)
	}
	if err := closeRows(rows); err != nil {
		return t.classify(err)
	}
	for _, in := range all {
		if err := fn(in); err != nil {
			return err
		}
	}
	return nil
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	return errors.Join(err, rows.Close())
}

func (t *sqlTx) Unlinked(fn func(meta.Ino) error) error {
	rows, err := t.rows(`SELECT ino FROM tarn_inode WHERE fs = ? AND nlink = 0 ORDER BY ino`, t.s.fs)
	if err != nil {
		return err
	}
	var inos []meta.Ino
	for rows.Next() {
		var ino int64
		if err := rows.Scan(&ino); err != nil {
			rows.Close()
			return t.classify(err)
		}
		inos = append(inos, meta.Ino(ino))
	}
	if err := closeRows(rows); err != nil {
		return t.classify(err)
	}
	for _, ino := range inos {
		if err := fn(ino); err != nil {
			return err
		}
	}
	return nil
}

func (t *sqlTx) Lookup(parent meta.Ino, name string) (meta.Dirent, error) {
	d := meta.Dirent{Name: name}
	var ino, mode, cookie int64
	err := t.row(`SELECT ino, mode, cookie FROM tarn_dirent WHERE fs = ? AND parent = ? AND name = ?`,
		t.s.fs, int64(parent), []byte(name)).Scan(&ino, &mode, &cookie)
	if err != nil {
		return d, fmt.Errorf("lookup %d/%q: %w", parent, name, t.classify(err))
	}
	d.Ino, d.Mode, d.Cookie = meta.Ino(ino), uint32(mode), uint64(cookie)
	return d, nil
}

// firstCookie leaves cookies 1 and 2 free for "." and "..".
const firstCookie = 3

func (t *sqlTx) AddEntry(parent meta.Ino, d meta.Dirent) error {
	var next int64
	err := t.row(`SELECT COALESCE(MAX(cookie), ?) + 1 FROM tarn_dirent WHERE fs = ? AND parent = ?`,
		firstCookie-1, t.s.fs, int64(parent)).Scan(&next)
	if err != nil {
		return fmt.Errorf("add entry %d/%q: %w", parent, d.Name, t.classify(err))
	}
	_, err = t.exec(`INSERT INTO tarn_dirent (fs, parent, name, ino, mode, cookie) VALUES (?, ?, ?, ?, ?, ?)`,
		t.s.fs, int64(parent), []byte(d.Name), int64(d.Ino), int64(d.Mode), next)
	if err != nil {
		return fmt.Errorf("add entry %d/%q: %w", parent, d.Name, err)
	}
	return nil
}

func (t *sqlTx) RemoveEntry(parent meta.Ino, name string) error {
	r, err := t.exec(`DELETE FROM tarn_dirent WHERE fs = ? AND parent = ? AND name = ?`,
		t.s.fs, int64(parent), []byte(name))
	if err != nil {
		return fmt.Errorf("remove entry %d/%q: %w", parent, name, err)
	}
	return t.mustAffect(r, fmt.Sprintf("remove entry %d/%q", parent, name))
}

func (t *sqlTx) ReadDir(parent meta.Ino, after uint64, fn func(meta.Dirent) bool) error {
	const batch = 512
	for {
		rows, err := t.rows(`SELECT name, ino, mode, cookie FROM tarn_dirent WHERE fs = ? AND parent = ? AND cookie > ?
			ORDER BY cookie LIMIT ?`, t.s.fs, int64(parent), int64(after), batch)
		if err != nil {
			return err
		}
		var ds []meta.Dirent
		for rows.Next() {
			var name []byte
			var ino, mode, cookie int64
			if err := rows.Scan(&name, &ino, &mode, &cookie); err != nil {
				rows.Close()
				return t.classify(err)
			}
			ds = append(ds, meta.Dirent{Name: string(name), Ino: meta.Ino(ino), Mode: uint32(mode), Cookie: uint64(cookie)})
		}
		if err := closeRows(rows); err != nil {
			return t.classify(err)
		}
		for _, d := range ds {
			if !fn(d) {
				return nil
			}
			after = d.Cookie
		}
		if len(ds) < batch {
			return nil
		}
	}
}

func (t *sqlTx) HasEntries(parent meta.Ino) (bool, error) {
	var one int
	err := t.row(`SELECT 1 FROM tarn_dirent WHERE fs = ? AND parent = ? LIMIT 1`, t.s.fs, int64(parent)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, t.classify(err)
}

func (t *sqlTx) Entries(fn func(parent meta.Ino, d meta.Dirent) error) error {
	rows, err := t.rows(`SELECT parent, name, ino, mode, cookie FROM tarn_dirent WHERE fs = ? ORDER BY parent, cookie`, t.s.fs)
	if err != nil {
		return err
	}
	type pe struct {
		p meta.Ino
		d meta.Dirent
	}
	var all []pe
	for rows.Next() {
		var name []byte
		var parent, ino, mode, cookie int64
		if err := rows.Scan(&parent, &name, &ino, &mode, &cookie); err != nil {
			rows.Close()
			return t.classify(err)
		}
		all = append(all, pe{meta.Ino(parent), meta.Dirent{Name: string(name), Ino: meta.Ino(ino), Mode: uint32(mode), Cookie: uint64(cookie)}})
	}
	if err := closeRows(rows); err != nil {
		return t.classify(err)
	}
	for _, e := range all {
		if err := fn(e.p, e.d); err != nil {
			return err
		}
	}
	return nil
}

func (t *sqlTx) Symlink(ino meta.Ino) (string, error) {
	var target []byte
	err := t.row(`SELECT target FROM tarn_symlink WHERE fs = ? AND ino = ?`, t.s.fs, int64(ino)).Scan(&target)
	if err != nil {
		return "", fmt.Errorf("symlink %d: %w", ino, t.classify(err))
	}
	return string(target), nil
}

func (t *sqlTx) SetSymlink(ino meta.Ino, target string) error {
	_, err := t.exec(`INSERT INTO tarn_symlink (fs, ino, target) VALUES (?, ?, ?)
		ON CONFLICT (fs, ino) DO UPDATE SET target = excluded.target`, t.s.fs, int64(ino), []byte(target))
	if err != nil {
		return fmt.Errorf("set symlink %d: %w", ino, err)
	}
	return nil
}

func (t *sqlTx) Xattr(ino meta.Ino, name string) ([]byte, error) {
	var v []byte
	err := t.row(`SELECT value FROM tarn_xattr WHERE fs = ? AND ino = ? AND name = ?`, t.s.fs, int64(ino), []byte(name)).Scan(&v)
	if err != nil {
		return nil, fmt.Errorf("xattr %d %q: %w", ino, name, t.classify(err))
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

func (t *sqlTx) SetXattr(ino meta.Ino, name string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	_, err := t.exec(`INSERT INTO tarn_xattr (fs, ino, name, value) VALUES (?, ?, ?, ?)
		ON CONFLICT (fs, ino, name) DO UPDATE SET value = excluded.value`, t.s.fs, int64(ino), []byte(name), value)
	if err != nil {
		return fmt.Errorf("set xattr %d %q: %w", ino, name, err)
	}
	return nil
}

func (t *sqlTx) RemoveXattr(ino meta.Ino, name string) error {
	r, err := t.exec(`DELETE FROM tarn_xattr WHERE fs = ? AND ino = ? AND name = ?`, t.s.fs, int64(ino), []byte(name))
	if err != nil {
		return fmt.Errorf("remove xattr %d %q: %w", ino, name, err)
	}
	return t.mustAffect(r, fmt.Sprintf("remove xattr %d %q", ino, name))
}

func (t *sqlTx) Xattrs(ino meta.Ino) ([]string, error) {
	rows, err := t.rows(`SELECT name FROM tarn_xattr WHERE fs = ? AND ino = ?`, t.s.fs, int64(ino))
	if err != nil {
		return nil, err
	}
	var names []string
	for rows.Next() {
		var n []byte
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, t.classify(err)
		}
		names = append(names, string(n))
	}
	if err := closeRows(rows); err != nil {
		return nil, t.classify(err)
	}
	sort.Strings(names)
	return names, nil
}
