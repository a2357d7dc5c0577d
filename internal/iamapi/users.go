package iamapi

import (
	"context"
	"errors"
	"net/http"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/iam"
	"tarn.dev/tarn/internal/store"
)

type xmlUser struct {
	Path       string `xml:",omitempty"`
	UserName   string `xml:",omitempty"`
	UserID     string `xml:"UserId"`
	Arn        string
	CreateDate string
}

func userXML(u store.IAMUser) xmlUser {
	return xmlUser{Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: u.ARN, CreateDate: isoTime(u.Created)}
}

type userResult struct {
	User xmlUser
}

func (a *API) createUser(ctx context.Context, p params) (any, error) {
	name, err := p.required("UserName", userName)
	if err != nil {
		return nil, err
	}
	path, err := p.optional("Path", "/", pathConstraint)
	if err != nil {
		return nil, err
	}
	u := store.IAMUser{Name: name, ID: newID("AIDA", 17), Path: path, ARN: a.arn("user" + path + name),
		Created: a.cfg.Now().UTC()}
	if err := a.cfg.Store.CreateUser(ctx, u); err != nil {
		var ee *store.ExistsError
		if errors.As(err, &ee) {
			return nil, exists("User with name %s already exists.", name)
		}
		return nil, err
	}
	return userResult{userXML(u)}, nil
}

// user returns the named user as a NoSuchEntity-translated error.
func (a *API) user(ctx context.Context, name string) (store.IAMUser, error) {
	u, err := a.cfg.Store.User(ctx, name)
	return u, notFoundAs(err, noSuchOwner(store.UserOwner, name))
}

// noSuchOwner is the NoSuchEntity error for a missing user or role.
func noSuchOwner(kind store.OwnerKind, name string) error {
	return noSuchEntity("The %s with name %s cannot be found.", kind, name)
}

// deleteOwnerError translates the store's answer to deleting a user or role.
func deleteOwnerError(err error, kind store.OwnerKind, name string) error {
	var de *store.DependentsError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return noSuchOwner(kind, name)
	case errors.As(err, &de) && de.Dependents == "attached policies":
		return deleteConflict("Cannot delete entity, must detach all policies first.")
	case errors.As(err, &de):
		return deleteConflict("Cannot delete entity, must delete %s first.", de.Dependents)
	}
	return err
}

// subject resolves the optional UserName of calls that default to the
// caller: it returns the principal ARN and user name ("" for the account
// root).
func (a *API) subject(ctx context.Context, p params) (principal, name string, err error) {
	if _, ok := p.Values["UserName"]; ok {
		name, err := p.required("UserName", userName)
		if err != nil {
			return "", "", err
		}
		u, err := a.user(ctx, name)
		if err != nil {
			return "", "", err
		}
		return u.ARN, u.Name, nil
	}
	caller, ok, err := a.callerPrincipal(ctx)
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", "", awsapi.Errorf(http.StatusBadRequest, CodeValidation, "Must specify userName when calling with non-User credentials")
	}
	if iam.IsRoot(caller) {
		return caller, "", nil
	}
	u, err := a.cfg.Store.UserByARN(ctx, caller)
	if errors.Is(err, store.ErrNotFound) {
		return "", "", awsapi.Errorf(http.StatusBadRequest, CodeValidation, "Must specify userName when calling with non-User credentials")
	}
	if err != nil {
		return "", "", err
	}
	return u.ARN, u.Name, nil
}

func (a *API) getUser(ctx context.Context, p params) (any, error) {
	principal, name, err := a.subject(ctx, p)
	if err != nil {
		return nil, err
	}
	if name == "" {
		return userResult{xmlUser{UserID: a.cfg.AccountID, Arn: principal, CreateDate: isoTime(a.cfg.Now())}}, nil
	}
	u, err := a.user(ctx, name)
	if err != nil {
		return nil, err
	}
	return userResult{userXML(u)}, nil
}

func (a *API) deleteUser(ctx context.Context, p params) (any, error) {
	name, err := p.required("UserName", userName)
	if err != nil {
		return nil, err
	}
	return nil, deleteOwnerError(a.cfg.Store.DeleteUser(ctx, name), store.UserOwner, name)
}

type listUsersResult struct {
	Users       list[xmlUser]
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

func (a *API) listUsers(ctx context.Context, p params) (any, error) {
	users, more, marker, err := listByPath(ctx, p, a.cfg.Store.Users, userXML)
	if err != nil {
		return nil, err
	}
	return listUsersResult{Users: users, IsTruncated: more, Marker: marker}, nil
}

type xmlAccessKey struct {
	UserName        string `xml:",omitempty"`
	AccessKeyID     string `xml:"AccessKeyId"`
	Status          string
	SecretAccessKey string `xml:",omitempty"`
	CreateDate      string
}

func (a *API) createAccessKey(ctx context.Context, p params) (any, error) {
	principal, name, err := a.subject(ctx, p)
	if err != nil {
		return nil, err
	}
	k := store.AccessKey{ID: newID("AKIA", 16), Secret: newSecret(), Principal: principal, Status: "Active",
		Created: a.cfg.Now().UTC()}
	if err := a.cfg.Store.CreateAccessKey(ctx, k, MaxAccessKeysPerUser); err != nil {
		if errors.Is(err, store.ErrLimitExceeded) {
			return nil, limitExceeded("Cannot exceed quota for AccessKeysPerUser: %d", MaxAccessKeysPerUser)
		}
		return nil, err
	}
	return struct{ AccessKey xmlAccessKey }{xmlAccessKey{UserName: name, AccessKeyID: k.ID, Status: k.Status,
		SecretAccessKey: k.Secret, CreateDate: isoTime(k.Created)}}, nil
}

type listAccessKeysResult struct {
	AccessKeyMetadata list[xmlAccessKey]
	IsTruncated       bool
	Marker            string `xml:",omitempty"`
}

func (a *API) listAccessKeys(ctx context.Context, p params) (any, error) {
	principal, name, err := a.subject(ctx, p)
	if err != nil {
		return nil, err
	}
	keys, err := a.cfg.Store.AccessKeys(ctx, principal)
	if err != nil {
		return nil, err
	}
	meta, more, marker, err := pageOf(p, keys, func(k store.AccessKey) xmlAccessKey {
		return xmlAccessKey{UserName: name, AccessKeyID: k.ID, Status: k.Status, CreateDate: isoTime(k.Created)}
	})
	if err != nil {
		return nil, err
	}
	return listAccessKeysResult{AccessKeyMetadata: meta, IsTruncated: more, Marker: marker}, nil
}

func noSuchKey(id string) error {
	return noSuchEntity("The Access Key with id %s cannot be found.", id)
}

// ownKey returns the access key id parameter after checking that the key
// belongs to the subject of the call and is not an account root key (the
// server's own credential, which must outlive any API call).
func (a *API) ownKey(ctx context.Context, p params) (string, error) {
	id, err := p.required("AccessKeyId", keyIDConstraint)
	if err != nil {
		return "", err
	}
	principal, _, err := a.subject(ctx, p)
	if err != nil {
		return "", err
	}
	k, err := a.cfg.Store.AccessKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && k.Principal != principal) {
		return "", noSuchKey(id)
	}
	if err != nil {
		return "", err
	}
	if iam.IsRoot(k.Principal) {
		return "", awsapi.Errorf(http.StatusConflict, CodeDeleteConflict,
			"The access key %s is the account root key of this Tarn; it cannot be deleted or deactivated through the API.", id)
	}
	return id, nil
}

func (a *API) deleteAccessKey(ctx context.Context, p params) (any, error) {
	id, err := a.ownKey(ctx, p)
	if err != nil {
		return nil, err
	}
	return nil, notFoundAs(a.cfg.Store.DeleteAccessKey(ctx, id), noSuchKey(id))
}

func (a *API) updateAccessKey(ctx context.Context, p params) (any, error) {
	status, err := p.required("Status", constraint{nil, 0, 100})
	if err != nil {
		return nil, err
	}
	if status != "Active" && status != "Inactive" {
		return nil, validation(status, "status", "Member must satisfy enum value set: [Active, Inactive]")
	}
	id, err := a.ownKey(ctx, p)
	if err != nil {
		return nil, err
	}
	return nil, notFoundAs(a.cfg.Store.SetAccessKeyStatus(ctx, id, status), noSuchKey(id))
}
