package iamapi

import (
	"context"
	"errors"

	"tarn.dev/tarn/internal/iam"
	"tarn.dev/tarn/internal/store"
)

type xmlRole struct {
	Path                     string
	RoleName                 string
	RoleID                   string `xml:"RoleId"`
	Arn                      string
	CreateDate               string
	AssumeRolePolicyDocument string
	Description              string `xml:",omitempty"`
	MaxSessionDuration       int
}

func roleXML(r store.Role) xmlRole {
	return xmlRole{Path: r.Path, RoleName: r.Name, RoleID: r.ID, Arn: r.ARN, CreateDate: isoTime(r.Created),
		AssumeRolePolicyDocument: encodeDoc(r.AssumeRolePolicy), Description: r.Description, MaxSessionDuration: r.MaxSessionDuration}
}

type roleResult struct {
	Role xmlRole
}

func (a *API) createRole(ctx context.Context, p params) (any, error) {
	name, err := p.required("RoleName", roleName)
	if err != nil {
		return nil, err
	}
	path, err := p.optional("Path", "/", pathConstraint)
	if err != nil {
		return nil, err
	}
	doc, err := p.required("AssumeRolePolicyDocument", docConstraint)
	if err != nil {
		return nil, err
	}
	desc, err := p.optional("Description", "", constraint{nil, 0, 1000})
	if err != nil {
		return nil, err
	}
	maxSession, err := p.intParam("MaxSessionDuration", 3600, 3600, 43200)
	if err != nil {
		return nil, err
	}
	if _, err := parsePolicy(doc, iam.Trust); err != nil {
		return nil, err
	}
	r := store.Role{Name: name, ID: newID("AROA", 17), Path: path, ARN: a.arn("role" + path + name),
		AssumeRolePolicy: doc, Description: desc, MaxSessionDuration: maxSession, Created: a.cfg.Now().UTC()}
	if err := a.cfg.Store.CreateRole(ctx, r); err != nil {
		var ee *store.ExistsError
		if errors.As(err, &ee) {
			return nil, exists("Role with name %s already exists.", name)
		}
		return nil, err
	}
	return roleResult{roleXML(r)}, nil
}

// role returns the named role as a NoSuchEntity-translated error.
func (a *API) role(ctx context.Context, name string) (store.Role, error) {
	r, err := a.cfg.Store.Role(ctx, name)
	return r, notFoundAs(err, noSuchOwner(store.RoleOwner, name))
}

func (a *API) getRole(ctx context.Context, p params) (any, error) {
	name, err := p.required("RoleName", roleName)
	if err != nil {
		return nil, err
	}
	r, err := a.role(ctx, name)
	if err != nil {
		return nil, err
	}
	return roleResult{roleXML(r)}, nil
}

func (a *API) deleteRole(ctx context.Context, p params) (any, error) {
	name, err := p.required("RoleName", roleName)
	if err != nil {
		return nil, err
	}
	return nil, deleteOwnerError(a.cfg.Store.DeleteRole(ctx, name), store.RoleOwner, name)
}

type listRolesResult struct {
	Roles       list[xmlRole]
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

func (a *API) listRoles(ctx context.Context, p params) (any, error) {
	roles, more, marker, err := listByPath(ctx, p, a.cfg.Store.Roles, roleXML)
	if err != nil {
		return nil, err
	}
	return listRolesResult{Roles: roles, IsTruncated: more, Marker: marker}, nil
}

func (a *API) updateAssumeRolePolicy(ctx context.Context, p params) (any, error) {
	name, err := p.required("RoleName", roleName)
	if err != nil {
		return nil, err
	}
	doc, err := p.required("PolicyDocument", docConstraint)
	if err != nil {
		return nil, err
	}
	if _, err := parsePolicy(doc, iam.Trust); err != nil {
		return nil, err
	}
	return nil, notFoundAs(a.cfg.Store.UpdateAssumeRolePolicy(ctx, name, doc), noSuchOwner(store.RoleOwner, name))
}
