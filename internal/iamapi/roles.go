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
	if errors.Is(err, store.ErrNotFound) {
		return r, noSuchEntity("The role with name %s cannot be found.", name)
	}
	return r, err
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
	err = a.cfg.Store.DeleteRole(ctx, name)
	var de *store.DependentsError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, noSuchEntity("The role with name %s cannot be found.", name)
	case errors.As(err, &de) && de.Dependents == "attached policies":
		return nil, deleteConflict("Cannot delete entity, must detach all policies first.")
	case errors.As(err, &de):
		return nil, deleteConflict("Cannot delete entity, must delete %s first.", de.Dependents)
	}
	return nil, err
}

type listRolesResult struct {
	Roles       list[xmlRole]
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

func (a *API) listRoles(ctx context.Context, p params) (any, error) {
	prefix, err := p.optional("PathPrefix", "/", constraint{pathPrefixPattern, 1, 512})
	if err != nil {
		return nil, err
	}
	roles, err := a.cfg.Store.Roles(ctx, prefix)
	if err != nil {
		return nil, err
	}
	roles, more, marker, err := page(p, roles)
	if err != nil {
		return nil, err
	}
	out := listRolesResult{IsTruncated: more, Marker: marker}
	for _, r := range roles {
		out.Roles.Members = append(out.Roles.Members, roleXML(r))
	}
	return out, nil
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
	if err := a.cfg.Store.UpdateAssumeRolePolicy(ctx, name, doc); errors.Is(err, store.ErrNotFound) {
		return nil, noSuchEntity("The role with name %s cannot be found.", name)
	} else if err != nil {
		return nil, err
	}
	return nil, nil
}
