package sqlmeta

import (
	"errors"
	"strconv"
	"strings"

	"modernc.org/sqlite"
)

// Dialect adapts the engine to one SQL database. The engine writes portable
// SQL with "?" placeholders; everything that differs between databases is
// here.
type Dialect interface {
	// Name identifies the dialect in errors.
	Name() string
	// Rebind rewrites "?" placeholders into the database's syntax.
	Rebind(query string) string
	// BytesType is the column type for arbitrary byte strings.
	BytesType() string
	// ClusteredTable is appended to the definition of a table that is
	// only reached through its primary key, to store its rows in key
	// order without a separate key index (SQLite: WITHOUT ROWID), or "".
	ClusteredTable() string
	// IsUnique reports whether err is a unique or primary-key violation.
	IsUnique(err error) bool
	// IsConflict reports whether err is a retryable serialisation failure,
	// deadlock or lock timeout.
	IsConflict(err error) bool
}

// SQLite is the dialect of modernc.org/sqlite (driver name "sqlite").
var SQLite Dialect = sqliteDialect{}

type sqliteDialect struct{}

func (sqliteDialect) Name() string              { return "sqlite" }
func (sqliteDialect) Rebind(q string) string    { return q }
func (sqliteDialect) BytesType() string         { return "BLOB" }
func (sqliteDialect) ClusteredTable() string    { return " WITHOUT ROWID" }
func (sqliteDialect) IsUnique(err error) bool   { return sqliteCode(err, 2067, 1555) }
func (sqliteDialect) IsConflict(err error) bool { return sqliteCode(err, 5, 6, 517, 262) }

// sqliteCode reports whether err carries one of the given SQLite result codes
// (primary or extended: BUSY=5, LOCKED=6, BUSY_SNAPSHOT=517,
// LOCKED_SHAREDCACHE=262, CONSTRAINT_UNIQUE=2067, CONSTRAINT_PRIMARYKEY=1555).
func sqliteCode(err error, codes ...int) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	c := se.Code()
	for _, want := range codes {
		if c == want || (want < 256 && c&0xff == want) {
			return true
		}
	}
	return false
}

// PostgresRebind rewrites "?" placeholders into PostgreSQL's "$n" form. It is
// exported for a PostgreSQL dialect; the engine's queries contain no "?"
// inside string literals.
func PostgresRebind(q string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
