package efsapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/store"
)

type createAccessPointInput struct {
	ClientToken   *string        `json:"ClientToken"`
	FileSystemID  *string        `json:"FileSystemId"`
	Tags          []wireTag      `json:"Tags"`
	PosixUser     *posixUser     `json:"PosixUser"`
	RootDirectory *rootDirectory `json:"RootDirectory"`
}

const maxID = 1<<32 - 1

func checkID(v *int64, field string) (uint32, error) {
	if v == nil {
		return 0, awsapi.Required(field)
	}
	if err := awsapi.CheckRange(*v, field, 0, maxID); err != nil {
		return 0, err
	}
	return uint32(*v), nil
}

func (a *API) createAccessPoint(r *http.Request) (int, any, error) {
	var in createAccessPointInput
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.ClientToken == nil {
		return 0, nil, awsapi.Required("clientToken")
	}
	if err := awsapi.CheckLength(*in.ClientToken, "clientToken", 1, 64); err != nil {
		return 0, nil, err
	}
	if in.FileSystemID == nil {
		return 0, nil, awsapi.Required("fileSystemId")
	}
	if err := awsapi.CheckPattern(*in.FileSystemID, "fileSystemId", fileSystemIDPattern); err != nil {
		return 0, nil, err
	}
	ap := store.AccessPoint{
		ID:           newID("fsap-"),
		FileSystemID: a.localID(*in.FileSystemID),
		ClientToken:  *in.ClientToken,
		RootPath:     "/",
		State:        store.StateCreating,
		Created:      a.cfg.Now(),
	}
	if pu := in.PosixUser; pu != nil {
		uid, err := checkID(pu.UID, "posixUser.uid")
		if err != nil {
			return 0, nil, err
		}
		gid, err := checkID(pu.GID, "posixUser.gid")
		if err != nil {
			return 0, nil, err
		}
		if len(pu.SecondaryGIDs) > 16 {
			return 0, nil, awsapi.Validation(len(pu.SecondaryGIDs), "posixUser.secondaryGids", "Member must have length less than or equal to 16")
		}
		ap.PosixUser = &store.PosixUser{UID: uid, GID: gid}
		for i, g := range pu.SecondaryGIDs {
			if err := awsapi.CheckRange(g, fmt.Sprintf("posixUser.secondaryGids.%d.member", i+1), 0, maxID); err != nil {
				return 0, nil, err
			}
			ap.PosixUser.SecondaryGIDs = append(ap.PosixUser.SecondaryGIDs, uint32(g))
		}
	}
	if rd := in.RootDirectory; rd != nil {
		if rd.Path != nil {
			if err := checkRootPath(*rd.Path); err != nil {
				return 0, nil, err
			}
			ap.RootPath = *rd.Path
		}
		if ci := rd.CreationInfo; ci != nil {
			uid, err := checkID(ci.OwnerUID, "rootDirectory.creationInfo.ownerUid")
			if err != nil {
				return 0, nil, err
			}
			gid, err := checkID(ci.OwnerGID, "rootDirectory.creationInfo.ownerGid")
			if err != nil {
				return 0, nil, err
			}
			if ci.Permissions == nil {
				return 0, nil, awsapi.Required("rootDirectory.creationInfo.permissions")
			}
			if err := awsapi.CheckPattern(*ci.Permissions, "rootDirectory.creationInfo.permissions", permissionsPattern); err != nil {
				return 0, nil, err
			}
			ap.CreationInfo = &store.CreationInfo{OwnerUID: uid, OwnerGID: gid, Permissions: *ci.Permissions}
		}
	}
	tags, err := checkTags(in.Tags, "tags")
	if err != nil {
		return 0, nil, err
	}
	ap.Name = nameTag(tags)
	if err := a.cfg.Store.CreateAccessPoint(r.Context(), ap, tags, MaxAccessPointsPerFS); err != nil {
		var ee *store.ExistsError
		switch {
		case errors.As(err, &ee):
			return 0, nil, awsapi.Errorf(http.StatusConflict, "AccessPointAlreadyExists",
				"client token %q is already used by access point %s", ap.ClientToken, ee.ID).With("AccessPointId", ee.ID)
		case errors.Is(err, store.ErrNotFound):
			return 0, nil, awsapi.Errorf(http.StatusNotFound, "FileSystemNotFound", "file system %s does not exist", ap.FileSystemID)
		case errors.Is(err, store.ErrConflict):
			return 0, nil, awsapi.Errorf(http.StatusConflict, "IncorrectFileSystemLifeCycleState", "%v", errors.Unwrap(err))
		case errors.Is(err, store.ErrInUse):
			return 0, nil, awsapi.Errorf(http.StatusForbidden, "AccessPointLimitExceeded",
				"file system %s already has %d access points, the most allowed", ap.FileSystemID, MaxAccessPointsPerFS)
		}
		return 0, nil, err
	}
	created := ap
	if _, err := a.cfg.Store.SetAccessPointState(r.Context(), ap.ID, store.StateAvailable); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.describeAccessPoint(created, tags), nil
}

func (a *API) describeAccessPoint(ap store.AccessPoint, tags []store.Tag) accessPointDescription {
	d := accessPointDescription{
		ClientToken:    ap.ClientToken,
		Name:           ap.Name,
		Tags:           tagsOut(tags),
		AccessPointID:  ap.ID,
		AccessPointArn: a.arn("access-point", ap.ID),
		FileSystemID:   ap.FileSystemID,
		OwnerID:        a.cfg.AccountID,
		LifeCycleState: ap.State,
	}
	if pu := ap.PosixUser; pu != nil {
		uid, gid := int64(pu.UID), int64(pu.GID)
		d.PosixUser = &posixUser{UID: &uid, GID: &gid}
		for _, g := range pu.SecondaryGIDs {
			d.PosixUser.SecondaryGIDs = append(d.PosixUser.SecondaryGIDs, int64(g))
		}
	}
	path := ap.RootPath
	d.RootDirectory = &rootDirectory{Path: &path}
	if ci := ap.CreationInfo; ci != nil {
		uid, gid, perm := int64(ci.OwnerUID), int64(ci.OwnerGID), ci.Permissions
		d.RootDirectory.CreationInfo = &creationInfo{OwnerUID: &uid, OwnerGID: &gid, Permissions: &perm}
	}
	return d
}

func (a *API) describeAccessPoints(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	size, after, err := page(r, "MaxResults", "NextToken", 100)
	if err != nil {
		return 0, nil, err
	}
	var list []store.AccessPoint
	switch apID, fsID := q.Get("AccessPointId"), q.Get("FileSystemId"); {
	case apID != "" && fsID != "":
		return 0, nil, awsapi.Errorf(http.StatusBadRequest, "BadRequest", "give AccessPointId or FileSystemId, not both")
	case apID != "":
		ap, err := a.lookupAccessPoint(r.Context(), apID)
		if err != nil {
			return 0, nil, err
		}
		list = []store.AccessPoint{ap}
	case fsID != "":
		f, err := a.lookupFileSystem(r.Context(), fsID)
		if err != nil {
			return 0, nil, err
		}
		if list, err = a.cfg.Store.AccessPoints(r.Context(), f.ID, after, size+1); err != nil {
			return 0, nil, err
		}
	default:
		if list, err = a.cfg.Store.AccessPoints(r.Context(), "", after, size+1); err != nil {
			return 0, nil, err
		}
	}
	out := struct {
		AccessPoints []accessPointDescription `json:"AccessPoints"`
		NextToken    string                   `json:"NextToken,omitempty"`
	}{AccessPoints: []accessPointDescription{}}
	if len(list) > size {
		list = list[:size]
		out.NextToken = nextToken(list[size-1].ID)
	}
	ids := make([]string, len(list))
	for i, ap := range list {
		ids[i] = ap.ID
	}
	tags, err := a.cfg.Store.TagsOf(r.Context(), ids)
	if err != nil {
		return 0, nil, err
	}
	for _, ap := range list {
		out.AccessPoints = append(out.AccessPoints, a.describeAccessPoint(ap, tags[ap.ID]))
	}
	return http.StatusOK, out, nil
}

// lookupAccessPoint checks an AccessPointId (id or ARN) a call filters on
// and returns that access point.
func (a *API) lookupAccessPoint(ctx context.Context, id string) (store.AccessPoint, error) {
	if err := awsapi.CheckPattern(id, "accessPointId", accessPointIDPattern); err != nil {
		return store.AccessPoint{}, err
	}
	ap, err := a.cfg.Store.AccessPoint(ctx, a.localID(id))
	if err != nil {
		return store.AccessPoint{}, notFound(err, "AccessPointNotFound", "access point "+id)
	}
	return ap, nil
}

func (a *API) deleteAccessPoint(r *http.Request) (int, any, error) {
	id := r.PathValue("AccessPointId")
	if err := awsapi.CheckPattern(id, "accessPointId", accessPointIDPattern); err != nil {
		return 0, nil, err
	}
	if err := a.cfg.Store.DeleteAccessPoint(r.Context(), a.localID(id)); err != nil {
		return 0, nil, notFound(err, "AccessPointNotFound", "access point "+id)
	}
	return http.StatusNoContent, nil, nil
}
