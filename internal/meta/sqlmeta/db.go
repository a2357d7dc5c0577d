// Package sqlmeta implements meta.Store on database/sql. One engine serves
// every SQL database through a Dialect; SQLite (modernc.org/sqlite) is built
// in. Many file systems share one database: every table carries the file
// system id, and DB.Open returns the store of one file system, creating the
// schema on first use.
//
// SQLite is run in WAL mode with synchronous=NORMAL: a committed transaction
// survives a crash of the process (the kill -9 case) and the database is never
// corrupted by a power loss, but the last transactions before a power loss may
// be lost. Writers use BEGIN IMMEDIATE on a single connection, so writers queue
// in the process instead of failing with SQLITE_BUSY; readers use a separate
// pool and see WAL snapshots.
package sqlmeta

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"tarn.dev/tarn/internal/meta"
)

// DB is a metadata database that holds any number of file systems.
type DB struct {
	w, r    *sql.DB
	d       Dialect
	owned   bool
	schema  sync.Once
	errInit error
	rebind  sync.Map // query → rebound query
	stmts   sync.Map // stmtKey → *sql.Stmt

	prepMu  sync.Mutex
	closing bool           // no more background preparations
	prep    sync.WaitGroup // background preparations running
}

// New returns a DB over open database handles: write carries read-write
// transactions, read carries read-only ones (it may be the same handle).
// The caller keeps ownership of the handles.
func New(write, read *sql.DB, d Dialect) *DB {
	if read == nil {
		read = write
	}
	return &DB{w: write, r: read, d: d}
}

// OpenSQLite opens (creating if needed) the SQLite database at path with the
// settings the engine expects: WAL, synchronous=NORMAL, a busy timeout,
// immediate write transactions on one connection, and a pool of readers.
func OpenSQLite(path string) (*DB, error) {
	base := "file:" + (&url.URL{Path: path}).EscapedPath()
	prag := "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	w, err := sql.Open("sqlite", base+prag+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", base+prag)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	db := New(w, r, SQLite)
	db.owned = true
	if err := w.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	return db, nil
}

// Close closes the database handles if OpenSQLite opened them.
func (db *DB) Close() error {
	// A preparation still running would open a connection after Close.
	db.prepMu.Lock()
	db.closing = true
	db.prepMu.Unlock()
	db.prep.Wait()
	var err error
	db.stmts.Range(func(k, v any) bool {
		if st := v.(*sql.Stmt); st != nil {
			err = errors.Join(err, st.Close())
		}
		db.stmts.Delete(k)
		return true
	})
	if !db.owned {
		return err
	}
	err = errors.Join(err, db.w.Close())
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	return err
}

type stmtKey struct {
	pool  *sql.DB
	query string
}

// prepared returns query prepared on pool, or nil while it is not yet.
// Transactions use it through Tx.StmtContext, which database/sql binds to
// the transaction's connection, preparing it there only once per
// connection: SQLite then parses each statement once instead of on every
// call, which was most of the cost of a small transaction.
//
// A statement is prepared in the background on first use: preparing on the
// pool from inside a transaction could wait forever for the connection
// that transaction holds (the writer pool has one). Until it is ready the
// caller runs the query unprepared.
func (db *DB) prepared(pool *sql.DB, query string) *sql.Stmt {
	key := stmtKey{pool, query}
	v, loaded := db.stmts.LoadOrStore(key, (*sql.Stmt)(nil))
	if loaded {
		return v.(*sql.Stmt)
	}
	db.prepMu.Lock()
	defer db.prepMu.Unlock()
	if db.closing {
		return nil
	}
	db.prep.Add(1)
	go func() {
		defer db.prep.Done()
		st, err := pool.PrepareContext(context.Background(), db.q(query))
		if err != nil {
			db.stmts.Delete(key) // try again on a later use
			return
		}
		db.stmts.Store(key, st)
	}()
	return nil
}

func (db *DB) q(query string) string {
	if v, ok := db.rebind.Load(query); ok {
		return v.(string)
	}
	r := db.d.Rebind(query)
	db.rebind.Store(query, r)
	return r
}

func (db *DB) createSchema(ctx context.Context) error {
	db.schema.Do(func() {
		by := db.d.BytesType()
		// Tables of small rows reached by key are clustered; symbolic
		// link targets and xattr values can fill pages and are not.
		clustered := db.d.ClusteredTable()
		stmts := []string{
			`CREATE TABLE IF NOT EXISTS tarn_fs (fs TEXT NOT NULL PRIMARY KEY, next_ino BIGINT NOT NULL,
				next_slice BIGINT NOT NULL, used_bytes BIGINT NOT NULL, used_inodes BIGINT NOT NULL)`,
			`CREATE TABLE IF NOT EXISTS tarn_inode (fs TEXT NOT NULL, ino BIGINT NOT NULL, mode BIGINT NOT NULL,
				nlink BIGINT NOT NULL, uid BIGINT NOT NULL, gid BIGINT NOT NULL, rdev BIGINT NOT NULL,
				size BIGINT NOT NULL, atime BIGINT NOT NULL, mtime BIGINT NOT NULL, ctime BIGINT NOT NULL,
				parent BIGINT NOT NULL, PRIMARY KEY (fs, ino))` + clustered,
			`CREATE INDEX IF NOT EXISTS tarn_inode_unlinked ON tarn_inode (fs, ino) WHERE nlink = 0`,
			`CREATE TABLE IF NOT EXISTS tarn_dirent (fs TEXT NOT NULL, parent BIGINT NOT NULL, name ` + by + ` NOT NULL,
				ino BIGINT NOT NULL, mode BIGINT NOT NULL, cookie BIGINT NOT NULL, PRIMARY KEY (fs, parent, name))` + clustered,
			`CREATE INDEX IF NOT EXISTS tarn_dirent_cookie ON tarn_dirent (fs, parent, cookie)`,
			`CREATE TABLE IF NOT EXISTS tarn_symlink (fs TEXT NOT NULL, ino BIGINT NOT NULL, target ` + by + ` NOT NULL,
				PRIMARY KEY (fs, ino))`,
			`CREATE TABLE IF NOT EXISTS tarn_xattr (fs TEXT NOT NULL, ino BIGINT NOT NULL, name ` + by + ` NOT NULL,
				value ` + by + ` NOT NULL, PRIMARY KEY (fs, ino, name))`,
			`CREATE TABLE IF NOT EXISTS tarn_slice (fs TEXT NOT NULL, id BIGINT NOT NULL, size BIGINT NOT NULL,
				refs BIGINT NOT NULL, PRIMARY KEY (fs, id))` + clustered,
			`CREATE TABLE IF NOT EXISTS tarn_dead_slice (fs TEXT NOT NULL, id BIGINT NOT NULL, size BIGINT NOT NULL,
				PRIMARY KEY (fs, id))` + clustered,
			`CREATE TABLE IF NOT EXISTS tarn_extent (fs TEXT NOT NULL, ino BIGINT NOT NULL, chunk BIGINT NOT NULL,
				seq BIGINT NOT NULL, pos BIGINT NOT NULL, len BIGINT NOT NULL, slice BIGINT NOT NULL,
				off BIGINT NOT NULL, PRIMARY KEY (fs, ino, chunk, seq))` + clustered,
		}
		for _, s := range stmts {
			if _, err := db.w.ExecContext(ctx, s); err != nil {
				db.errInit = fmt.Errorf("create schema (%s): %w", db.d.Name(), err)
				return
			}
		}
	})
	return db.errInit
}

// Open returns the store of file system fsID, creating the schema and the file
// system's counters if needed. It is idempotent.
func (db *DB) Open(ctx context.Context, fsID string) (*Store, error) {
	if fsID == "" || strings.ContainsAny(fsID, "\x00") {
		return nil, fmt.Errorf("open file system %q: invalid id", fsID)
	}
	if err := db.createSchema(ctx); err != nil {
		return nil, err
	}
	s := &Store{db: db, fs: fsID, MaxRetries: 100}
	err := s.Update(ctx, func(tx meta.Tx) error {
		t := tx.(*sqlTx)
		var one int
		err := t.tx.QueryRowContext(ctx, db.q(`SELECT 1 FROM tarn_fs WHERE fs = ?`), fsID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			_, err = t.tx.ExecContext(ctx, db.q(`INSERT INTO tarn_fs (fs, next_ino, next_slice, used_bytes, used_inodes)
				VALUES (?, 2, 1, 0, 0)`), fsID)
		}
		return t.classify(err)
	})
	if err != nil {
		return nil, fmt.Errorf("open file system %q: %w", fsID, err)
	}
	return s, nil
}

// Store is the meta.Store of one file system in a DB.
type Store struct {
	db *DB
	fs string
	// MaxRetries bounds how often Update reruns a conflicting transaction.
	MaxRetries int
}

var _ meta.Store = (*Store)(nil)

// Close releases nothing: the DB stays open for other file systems.
func (s *Store) Close() error { return nil }

// Destroy deletes every record of the file system.
func (s *Store) Destroy(ctx context.Context) error {
	return s.Update(ctx, func(tx meta.Tx) error {
		t := tx.(*sqlTx)
		for _, tab := range []string{"tarn_extent", "tarn_dead_slice", "tarn_slice", "tarn_xattr", "tarn_symlink",
			"tarn_dirent", "tarn_inode", "tarn_fs"} {
			if _, err := t.tx.ExecContext(ctx, s.db.q(`DELETE FROM `+tab+` WHERE fs = ?`), s.fs); err != nil {
				return t.classify(err)
			}
		}
		return nil
	})
}

// View runs fn in a read-only transaction.
func (s *Store) View(ctx context.Context, fn func(tx meta.Tx) error) error {
	tx, err := s.db.r.BeginTx(ctx, nil)
	if err != nil {
		return s.classify(err)
	}
	defer tx.Rollback()
	return fn(&sqlTx{s: s, tx: tx, ctx: ctx, pool: s.db.r})
}

// Update runs fn in a read-write transaction, retrying on conflicts.
func (s *Store) Update(ctx context.Context, fn func(tx meta.Tx) error) error {
	var err error
	for attempt := 0; ; attempt++ {
		err = s.update(ctx, fn)
		if !errors.Is(err, meta.ErrConflict) || attempt >= s.MaxRetries {
			return err
		}
		d := time.Duration(attempt+1) * time.Millisecond
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(min(d, 50*time.Millisecond)):
		}
	}
}

func (s *Store) update(ctx context.Context, fn func(tx meta.Tx) error) error {
	tx, err := s.db.w.BeginTx(ctx, nil)
	if err != nil {
		return s.classify(err)
	}
	if err := fn(&sqlTx{s: s, tx: tx, ctx: ctx, pool: s.db.w}); err != nil {
		tx.Rollback()
		return err
	}
	return s.classify(tx.Commit())
}

func (s *Store) classify(err error) error {
	switch {
	case err == nil:
		return nil
	case s.db.d.IsConflict(err):
		return fmt.Errorf("%w: %w", meta.ErrConflict, err)
	}
	return err
}
