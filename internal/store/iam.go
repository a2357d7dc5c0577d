package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// IAM records: users, roles, inline policies of users and roles, customer
// managed policies with their versions, and attachments of managed policies
// (customer or AWS managed) to users and roles. Names of users, roles and
// policies are unique without regard to case, as in IAM. A user's access
// keys are rows of access_keys whose principal is the user's ARN.

// ErrLimitExceeded: the change would exceed an IAM quota.
var ErrLimitExceeded = errors.New("limit exceeded")

// DependentsError reports that an IAM entity cannot be deleted while others
// depend on it; Dependents names them ("access keys", "policies", "attached
// policies", "attachments"). It matches ErrInUse.
type DependentsError struct{ Dependents string }

func (e *DependentsError) Error() string { return "in use: has " + e.Dependents }

// Unwrap makes errors.Is(err, ErrInUse) hold.
func (e *DependentsError) Unwrap() error { return ErrInUse }

// OwnerKind says whether a policy belongs to a user or a role.
type OwnerKind string

// The owners of inline policies and attachments.
const (
	UserOwner OwnerKind = "user"
	RoleOwner OwnerKind = "role"
)

// awsManagedPrefix starts the ARNs of AWS managed policies, which live in
// code, not in the store.
const awsManagedPrefix = "arn:aws:iam::aws:policy/"

// IAMUser is an IAM user.
type IAMUser struct {
	Name, ID, Path, ARN string
	Created             time.Time
}

// Role is an IAM role.
type Role struct {
	Name, ID, Path, ARN string
	AssumeRolePolicy    string // the trust policy document
	Description         string
	MaxSessionDuration  int // seconds
	Created             time.Time
}

// ManagedPolicy is a customer managed policy.
type ManagedPolicy struct {
	ARN, Name, ID, Path, Description string
	DefaultVersion                   string
	Created, Updated                 time.Time
	// Derived when read.
	AttachmentCount int
}

// PolicyVersion is one version of a customer managed policy.
type PolicyVersion struct {
	PolicyARN, VersionID, Document string
	IsDefault                      bool
	Created                        time.Time
}

// InlinePolicy is a policy embedded in a user or role.
type InlinePolicy struct {
	Name, Document string
}

// CreateUser stores a new user; a name in use returns *ExistsError.
func (s *Store) CreateUser(ctx context.Context, u IAMUser) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		return insertNew(ctx, tx, u.Name, "create user "+u.Name, `INSERT INTO iam_users(name, id, path, arn, created_at) VALUES(?,?,?,?,?)`,
			u.Name, u.ID, u.Path, u.ARN, u.Created.Unix())
	})
}

const userColumns = `name, id, path, arn, created_at`

func scanUser(row scanner) (IAMUser, error) {
	var u IAMUser
	var created int64
	err := row.Scan(&u.Name, &u.ID, &u.Path, &u.ARN, &created)
	u.Created = time.Unix(created, 0).UTC()
	return u, err
}

// User returns the user with the given name, or ErrNotFound.
func (s *Store) User(ctx context.Context, name string) (IAMUser, error) {
	return s.userWhere(ctx, `name = ?`, name)
}

// UserByARN returns the user with the given ARN, or ErrNotFound.
func (s *Store) UserByARN(ctx context.Context, arn string) (IAMUser, error) {
	return s.userWhere(ctx, `arn = ?`, arn)
}

func (s *Store) userWhere(ctx context.Context, where, arg string) (IAMUser, error) {
	return queryOne(ctx, s.db, scanUser, "user "+arg, `SELECT `+userColumns+` FROM iam_users WHERE `+where, arg)
}

// Users returns the users whose path starts with pathPrefix, by name.
func (s *Store) Users(ctx context.Context, pathPrefix string) ([]IAMUser, error) {
	return queryList(ctx, s.db, scanUser, `SELECT `+userColumns+` FROM iam_users`+byPathPrefix, pathPrefix, pathPrefix)
}

// DeleteUser deletes a user that has no access keys, inline policies or
// attached policies (else *DependentsError).
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var arn string
		if _, err := queryOne(ctx, tx, scanInto(&arn), "user "+name, `SELECT arn FROM iam_users WHERE name = ?`, name); err != nil {
			return err
		}
		if err := noDependents(ctx, tx, `SELECT COUNT(*) FROM access_keys WHERE principal = ?`, arn, "access keys"); err != nil {
			return err
		}
		if err := noDependents(ctx, tx, `SELECT COUNT(*) FROM iam_inline_policies WHERE owner_kind = 'user' AND owner = ?`, name, "policies"); err != nil {
			return err
		}
		if err := noDependents(ctx, tx, `SELECT COUNT(*) FROM iam_attachments WHERE owner_kind = 'user' AND owner = ?`, name, "attached policies"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM iam_users WHERE name = ?`, name); err != nil {
			return fmt.Errorf("delete user %s: %w", name, err)
		}
		return nil
	})
}

func noDependents(ctx context.Context, tx *sql.Tx, query, arg, what string) error {
	var n int
	if err := tx.QueryRowContext(ctx, query, arg).Scan(&n); err != nil {
		return fmt.Errorf("count %s: %w", what, err)
	}
	if n > 0 {
		return &DependentsError{Dependents: what}
	}
	return nil
}

// CreateRole stores a new role; a name in use returns *ExistsError.
func (s *Store) CreateRole(ctx context.Context, r Role) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		return insertNew(ctx, tx, r.Name, "create role "+r.Name, `INSERT INTO iam_roles(name, id, path, arn, assume_policy, description, max_session, created_at)
			VALUES(?,?,?,?,?,?,?,?)`, r.Name, r.ID, r.Path, r.ARN, r.AssumeRolePolicy, r.Description, r.MaxSessionDuration, r.Created.Unix())
	})
}

const roleColumns = `name, id, path, arn, assume_policy, description, max_session, created_at`

func scanRole(row scanner) (Role, error) {
	var r Role
	var created int64
	err := row.Scan(&r.Name, &r.ID, &r.Path, &r.ARN, &r.AssumeRolePolicy, &r.Description, &r.MaxSessionDuration, &created)
	r.Created = time.Unix(created, 0).UTC()
	return r, err
}

// Role returns the role with the given name, or ErrNotFound.
func (s *Store) Role(ctx context.Context, name string) (Role, error) {
	return s.roleWhere(ctx, `name = ?`, name)
}

// RoleByARN returns the role with the given ARN, or ErrNotFound.
func (s *Store) RoleByARN(ctx context.Context, arn string) (Role, error) {
	return s.roleWhere(ctx, `arn = ?`, arn)
}

func (s *Store) roleWhere(ctx context.Context, where, arg string) (Role, error) {
	return queryOne(ctx, s.db, scanRole, "role "+arg, `SELECT `+roleColumns+` FROM iam_roles WHERE `+where, arg)
}

// Roles returns the roles whose path starts with pathPrefix, by name.
func (s *Store) Roles(ctx context.Context, pathPrefix string) ([]Role, error) {
	return queryList(ctx, s.db, scanRole, `SELECT `+roleColumns+` FROM iam_roles`+byPathPrefix, pathPrefix, pathPrefix)
}

// DeleteRole deletes a role that has no inline or attached policies (else
// *DependentsError).
func (s *Store) DeleteRole(ctx context.Context, name string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := ownerExists(ctx, tx, RoleOwner, name); err != nil {
			return err
		}
		if err := noDependents(ctx, tx, `SELECT COUNT(*) FROM iam_attachments WHERE owner_kind = 'role' AND owner = ?`, name, "attached policies"); err != nil {
			return err
		}
		if err := noDependents(ctx, tx, `SELECT COUNT(*) FROM iam_inline_policies WHERE owner_kind = 'role' AND owner = ?`, name, "policies"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM iam_roles WHERE name = ?`, name); err != nil {
			return fmt.Errorf("delete role %s: %w", name, err)
		}
		return nil
	})
}

// UpdateAssumeRolePolicy replaces the trust policy of a role.
func (s *Store) UpdateAssumeRolePolicy(ctx context.Context, name, doc string) error {
	return s.execOne(ctx, "role "+name, `UPDATE iam_roles SET assume_policy = ? WHERE name = ?`, doc, name)
}

// ownerExists returns ErrNotFound unless the user or role exists.
func ownerExists(ctx context.Context, tx *sql.Tx, kind OwnerKind, name string) error {
	table := "iam_users"
	if kind == RoleOwner {
		table = "iam_roles"
	}
	return mustExist(ctx, tx, string(kind)+" "+name, `SELECT 1 FROM `+table+` WHERE name = ?`, name)
}

// PutInlinePolicy creates or replaces an inline policy of a user or role.
// maxTotal, if positive, bounds the summed length of the owner's inline
// policy documents (ErrLimitExceeded).
func (s *Store) PutInlinePolicy(ctx context.Context, kind OwnerKind, owner, name, doc string, maxTotal int) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := ownerExists(ctx, tx, kind, owner); err != nil {
			return err
		}
		if maxTotal > 0 {
			var others int
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(length(document)), 0) FROM iam_inline_policies
				WHERE owner_kind = ? AND owner = ? AND name != ?`, kind, owner, name).Scan(&others); err != nil {
				return fmt.Errorf("put policy %s of %s %s: %w", name, kind, owner, err)
			}
			if others+len(doc) > maxTotal {
				return fmt.Errorf("inline policies of %s %s: %w", kind, owner, ErrLimitExceeded)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO iam_inline_policies(owner_kind, owner, name, document) VALUES(?,?,?,?)
			ON CONFLICT(owner_kind, owner, name) DO UPDATE SET document = excluded.document`, kind, owner, name, doc)
		if err != nil {
			return fmt.Errorf("put policy %s of %s %s: %w", name, kind, owner, err)
		}
		return nil
	})
}

// InlinePolicy returns the document of an inline policy, or ErrNotFound.
func (s *Store) InlinePolicy(ctx context.Context, kind OwnerKind, owner, name string) (string, error) {
	var doc string
	_, err := queryOne(ctx, s.db, scanInto(&doc), inlineWhat(kind, owner, name),
		`SELECT document FROM iam_inline_policies WHERE owner_kind = ? AND owner = ? AND name = ?`, kind, owner, name)
	return doc, err
}

// inlineWhat names an inline policy in errors.
func inlineWhat(kind OwnerKind, owner, name string) string {
	return fmt.Sprintf("policy %s of %s %s", name, kind, owner)
}

// InlinePolicies returns the inline policies of a user or role, by name.
func (s *Store) InlinePolicies(ctx context.Context, kind OwnerKind, owner string) ([]InlinePolicy, error) {
	return queryList(ctx, s.db, scanInline, `SELECT name, document FROM iam_inline_policies WHERE owner_kind = ? AND owner = ?
		ORDER BY name COLLATE NOCASE`, kind, owner)
}

func scanInline(row scanner) (InlinePolicy, error) {
	var p InlinePolicy
	err := row.Scan(&p.Name, &p.Document)
	return p, err
}

// DeleteInlinePolicy deletes an inline policy, or returns ErrNotFound.
func (s *Store) DeleteInlinePolicy(ctx context.Context, kind OwnerKind, owner, name string) error {
	return s.execOne(ctx, inlineWhat(kind, owner, name),
		`DELETE FROM iam_inline_policies WHERE owner_kind = ? AND owner = ? AND name = ?`, kind, owner, name)
}

// CreatePolicy stores a customer managed policy with doc as its default
// version v1. A name in use returns *ExistsError.
func (s *Store) CreatePolicy(ctx context.Context, p ManagedPolicy, doc string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := insertNew(ctx, tx, p.Name, "create policy "+p.Name, `INSERT INTO iam_policies(arn, name, id, path, description,
			default_version, next_version, created_at, updated_at) VALUES(?,?,?,?,?,'v1',2,?,?)`,
			p.ARN, p.Name, p.ID, p.Path, p.Description, p.Created.Unix(), p.Created.Unix()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO iam_policy_versions(policy_arn, version_id, document, created_at) VALUES(?,'v1',?,?)`,
			p.ARN, doc, p.Created.Unix())
		if err != nil {
			return fmt.Errorf("create policy %s: %w", p.Name, err)
		}
		return nil
	})
}

const policyColumns = `arn, name, id, path, description, default_version, created_at, updated_at,
	(SELECT COUNT(*) FROM iam_attachments a WHERE a.policy_arn = iam_policies.arn)`

func scanPolicy(row scanner) (ManagedPolicy, error) {
	var p ManagedPolicy
	var created, updated int64
	err := row.Scan(&p.ARN, &p.Name, &p.ID, &p.Path, &p.Description, &p.DefaultVersion, &created, &updated, &p.AttachmentCount)
	p.Created, p.Updated = time.Unix(created, 0).UTC(), time.Unix(updated, 0).UTC()
	return p, err
}

// Policy returns the customer managed policy with the given ARN, or
// ErrNotFound.
func (s *Store) Policy(ctx context.Context, arn string) (ManagedPolicy, error) {
	return queryOne(ctx, s.db, scanPolicy, "policy "+arn, `SELECT `+policyColumns+` FROM iam_policies WHERE arn = ?`, arn)
}

// Policies returns the customer managed policies whose path starts with
// pathPrefix, by name.
func (s *Store) Policies(ctx context.Context, pathPrefix string) ([]ManagedPolicy, error) {
	return queryList(ctx, s.db, scanPolicy, `SELECT `+policyColumns+` FROM iam_policies`+byPathPrefix, pathPrefix, pathPrefix)
}

// PolicyVersion returns a version of a customer managed policy; versionID ""
// means the default version.
func (s *Store) PolicyVersion(ctx context.Context, arn, versionID string) (PolicyVersion, error) {
	var v PolicyVersion
	var created int64
	var def string
	_, err := queryOne(ctx, s.db, scanInto(&v.PolicyARN, &v.VersionID, &v.Document, &created, &def),
		fmt.Sprintf("policy %s version %q", arn, versionID), `SELECT v.policy_arn, v.version_id, v.document, v.created_at, p.default_version
		FROM iam_policy_versions v JOIN iam_policies p ON p.arn = v.policy_arn
		WHERE v.policy_arn = ? AND v.version_id = CASE WHEN ? = '' THEN p.default_version ELSE ? END`,
		arn, versionID, versionID)
	if err != nil {
		return v, err
	}
	v.Created, v.IsDefault = time.Unix(created, 0).UTC(), v.VersionID == def
	return v, nil
}

// CreatePolicyVersion adds a version to a customer managed policy, making it
// the default if setDefault. At most max versions may exist
// (ErrLimitExceeded).
func (s *Store) CreatePolicyVersion(ctx context.Context, arn, doc string, setDefault bool, max int, now time.Time) (PolicyVersion, error) {
	var v PolicyVersion
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var next, count int
		if _, err := queryOne(ctx, tx, scanInto(&next, &count), "policy "+arn, `SELECT next_version,
			(SELECT COUNT(*) FROM iam_policy_versions WHERE policy_arn = arn) FROM iam_policies WHERE arn = ?`, arn); err != nil {
			return err
		}
		if max > 0 && count >= max {
			return fmt.Errorf("versions of %s: %w", arn, ErrLimitExceeded)
		}
		v = PolicyVersion{PolicyARN: arn, VersionID: "v" + strconv.Itoa(next), Document: doc, IsDefault: setDefault, Created: now.UTC().Truncate(time.Second)}
		if _, err := tx.ExecContext(ctx, `INSERT INTO iam_policy_versions(policy_arn, version_id, document, created_at) VALUES(?,?,?,?)`,
			arn, v.VersionID, doc, now.Unix()); err != nil {
			return fmt.Errorf("create version of %s: %w", arn, err)
		}
		set := `next_version = next_version + 1, updated_at = ?`
		if setDefault {
			set += `, default_version = '` + v.VersionID + `'`
		}
		if _, err := tx.ExecContext(ctx, `UPDATE iam_policies SET `+set+` WHERE arn = ?`, now.Unix(), arn); err != nil {
			return fmt.Errorf("create version of %s: %w", arn, err)
		}
		return nil
	})
	return v, err
}

// DeletePolicy deletes a customer managed policy and its versions; one
// still attached returns *DependentsError.
func (s *Store) DeletePolicy(ctx context.Context, arn string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := noDependents(ctx, tx, `SELECT COUNT(*) FROM iam_attachments WHERE policy_arn = ?`, arn, "attachments"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM iam_policy_versions WHERE policy_arn = ?`, arn); err != nil {
			return fmt.Errorf("delete policy %s: %w", arn, err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM iam_policies WHERE arn = ?`, arn)
		if err != nil {
			return fmt.Errorf("delete policy %s: %w", arn, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("policy %s: %w", arn, ErrNotFound)
		}
		return nil
	})
}

// AttachPolicy attaches a managed policy to a user or role. A customer
// policy must exist (AWS managed ones are the caller's to check); attaching
// twice is a no-op. max, if positive, bounds the number of policies attached
// to the owner (ErrLimitExceeded).
func (s *Store) AttachPolicy(ctx context.Context, kind OwnerKind, owner, policyARN string, max int) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := ownerExists(ctx, tx, kind, owner); err != nil {
			return err
		}
		if !strings.HasPrefix(policyARN, awsManagedPrefix) {
			if err := mustExist(ctx, tx, "policy "+policyARN, `SELECT 1 FROM iam_policies WHERE arn = ?`, policyARN); err != nil {
				return err
			}
		}
		var attached, already int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(policy_arn = ?), 0) FROM iam_attachments
			WHERE owner_kind = ? AND owner = ?`, policyARN, kind, owner).Scan(&attached, &already); err != nil {
			return fmt.Errorf("attach %s: %w", policyARN, err)
		}
		if already > 0 {
			return nil
		}
		if max > 0 && attached >= max {
			return fmt.Errorf("policies attached to %s %s: %w", kind, owner, ErrLimitExceeded)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO iam_attachments(owner_kind, owner, policy_arn) VALUES(?,?,?)`,
			kind, owner, policyARN); err != nil {
			return fmt.Errorf("attach %s: %w", policyARN, err)
		}
		return nil
	})
}

// DetachPolicy detaches a managed policy; one not attached returns
// ErrNotFound.
func (s *Store) DetachPolicy(ctx context.Context, kind OwnerKind, owner, policyARN string) error {
	return s.execOne(ctx, fmt.Sprintf("policy %s attached to %s %s", policyARN, kind, owner),
		`DELETE FROM iam_attachments WHERE owner_kind = ? AND owner = ? AND policy_arn = ?`, kind, owner, policyARN)
}

// AttachedPolicies returns the ARNs of the managed policies attached to a
// user or role, sorted.
func (s *Store) AttachedPolicies(ctx context.Context, kind OwnerKind, owner string) ([]string, error) {
	return queryList(ctx, s.db, scanString, `SELECT policy_arn FROM iam_attachments WHERE owner_kind = ? AND owner = ? ORDER BY policy_arn`, kind, owner)
}

// AttachmentCounts returns how many users and roles each attached policy is
// attached to, by ARN.
func (s *Store) AttachmentCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT policy_arn, COUNT(*) FROM iam_attachments GROUP BY policy_arn`)
	if err != nil {
		return nil, fmt.Errorf("attachment counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var arn string
		var n int
		if err := rows.Scan(&arn, &n); err != nil {
			return nil, fmt.Errorf("attachment counts: %w", err)
		}
		out[arn] = n
	}
	return out, rows.Err()
}

// CreateAccessKey stores a new access key for a principal that holds fewer
// than max keys (ErrLimitExceeded); max 0 means no limit.
func (s *Store) CreateAccessKey(ctx context.Context, k AccessKey, max int) error {
	if k.Status == "" {
		k.Status = "Active"
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if max > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM access_keys WHERE principal = ?`, k.Principal).Scan(&n); err != nil {
				return fmt.Errorf("create access key: %w", err)
			}
			if n >= max {
				return fmt.Errorf("access keys of %s: %w", k.Principal, ErrLimitExceeded)
			}
		}
		return insertNew(ctx, tx, k.ID, "create access key", `INSERT INTO access_keys(id, secret, principal, status, created_at) VALUES(?,?,?,?,?)`,
			k.ID, k.Secret, k.Principal, k.Status, k.Created.Unix())
	})
}

// AccessKeys returns the access keys of a principal, oldest first.
func (s *Store) AccessKeys(ctx context.Context, principal string) ([]AccessKey, error) {
	return queryList(ctx, s.db, scanAccessKey, `SELECT id, secret, principal, status, created_at FROM access_keys
		WHERE principal = ? ORDER BY created_at, id`, principal)
}

func scanAccessKey(row scanner) (AccessKey, error) {
	var k AccessKey
	var created int64
	err := row.Scan(&k.ID, &k.Secret, &k.Principal, &k.Status, &created)
	k.Created = time.Unix(created, 0).UTC()
	return k, err
}

// DeleteAccessKey deletes an access key, or returns ErrNotFound.
func (s *Store) DeleteAccessKey(ctx context.Context, id string) error {
	return s.execOne(ctx, "access key "+id, `DELETE FROM access_keys WHERE id = ?`, id)
}

// SetAccessKeyStatus sets an access key Active or Inactive, or returns
// ErrNotFound.
func (s *Store) SetAccessKeyStatus(ctx context.Context, id, status string) error {
	return s.execOne(ctx, "access key "+id, `UPDATE access_keys SET status = ? WHERE id = ?`, status, id)
}

// insertNew runs an INSERT in tx; a taken key returns *ExistsError{ID: id}
// and any other failure is wrapped with what.
func insertNew(ctx context.Context, tx *sql.Tx, id, what, query string, args ...any) error {
	_, err := tx.ExecContext(ctx, query, args...)
	if isUniqueViolation(err) {
		return &ExistsError{ID: id}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// scanInto returns a scan function for queryOne that scans a row into dest,
// for lookups that need no record type.
func scanInto(dest ...any) func(scanner) (struct{}, error) {
	return func(row scanner) (struct{}, error) { return struct{}{}, row.Scan(dest...) }
}

// mustExist returns ErrNotFound, wrapped with what, unless query finds a
// row.
func mustExist(ctx context.Context, q querier, what, query string, args ...any) error {
	var one int
	_, err := queryOne(ctx, q, scanInto(&one), what, query, args...)
	return err
}

// byPathPrefix ends the queries of the list calls that filter by path
// prefix; it takes the prefix twice.
const byPathPrefix = ` WHERE substr(path, 1, length(?)) = ? ORDER BY name COLLATE NOCASE`

func scanString(row scanner) (string, error) {
	var v string
	err := row.Scan(&v)
	return v, err
}
