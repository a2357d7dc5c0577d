package efsapi

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/store"
)

// A mount target is where clients reach Tarn's file service for one file
// system. Tarn runs one availability zone per region, so a file system has
// at most one mount target; its IpAddress is the file service's address.

func (a *API) availabilityZoneID() string {
	// A short stable id in the style of "use1-az1".
	parts := strings.Split(a.cfg.Region, "-")
	id := ""
	for _, p := range parts {
		if p != "" {
			id += p[:1]
		}
	}
	return id + "-az1"
}

func (a *API) createMountTarget(r *http.Request) (int, any, error) {
	var in struct {
		FileSystemID   *string  `json:"FileSystemId"`
		SubnetID       *string  `json:"SubnetId"`
		IPAddress      *string  `json:"IpAddress"`
		SecurityGroups []string `json:"SecurityGroups"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.FileSystemID == nil {
		return 0, nil, awsapi.Required("fileSystemId")
	}
	if err := awsapi.CheckPattern(*in.FileSystemID, "fileSystemId", fileSystemIDPattern); err != nil {
		return 0, nil, err
	}
	if in.SubnetID == nil {
		return 0, nil, awsapi.Required("subnetId")
	}
	if err := awsapi.CheckPattern(*in.SubnetID, "subnetId", subnetIDPattern); err != nil {
		return 0, nil, err
	}
	if len(in.SecurityGroups) > 5 {
		return 0, nil, awsapi.Errorf(http.StatusBadRequest, "SecurityGroupLimitExceeded",
			"%d security groups given; a mount target takes at most 5", len(in.SecurityGroups))
	}
	for i, sg := range in.SecurityGroups {
		if err := awsapi.CheckPattern(sg, fmt.Sprintf("securityGroups.%d.member", i+1), securityGroupPattern); err != nil {
			return 0, nil, err
		}
	}
	m := store.MountTarget{
		ID:                   newID("fsmt-"),
		FileSystemID:         a.localID(*in.FileSystemID),
		SubnetID:             *in.SubnetID,
		IPAddress:            a.cfg.MountAddress,
		AvailabilityZoneName: a.availabilityZone(),
		NetworkInterfaceID:   newID("eni-"),
		SecurityGroups:       in.SecurityGroups,
		State:                store.StateCreating,
		Created:              a.cfg.Now(),
	}
	if in.IPAddress != nil {
		ip := net.ParseIP(*in.IPAddress)
		if ip == nil || ip.To4() == nil {
			return 0, nil, awsapi.Errorf(http.StatusBadRequest, "BadRequest", "IpAddress %q is not an IPv4 address", *in.IPAddress)
		}
		if *in.IPAddress != a.cfg.MountAddress {
			return 0, nil, awsapi.Errorf(http.StatusBadRequest, "IpAddressInUse",
				"IpAddress %s is not an address of this file service; it listens on %s", *in.IPAddress, a.cfg.MountAddress)
		}
	}
	if err := a.cfg.Store.CreateMountTarget(r.Context(), m); err != nil {
		var ee *store.ExistsError
		switch {
		case errors.As(err, &ee):
			return 0, nil, awsapi.Errorf(http.StatusConflict, "MountTargetConflict",
				"file system %s already has mount target %s in availability zone %s", m.FileSystemID, ee.ID, m.AvailabilityZoneName)
		case errors.Is(err, store.ErrNotFound):
			return 0, nil, awsapi.Errorf(http.StatusNotFound, "FileSystemNotFound", "file system %s does not exist", m.FileSystemID)
		case errors.Is(err, store.ErrConflict):
			return 0, nil, awsapi.Errorf(http.StatusConflict, "IncorrectFileSystemLifeCycleState", "%v", errors.Unwrap(err))
		}
		return 0, nil, err
	}
	created := m
	if err := a.cfg.Store.SetMountTargetState(r.Context(), m.ID, store.StateAvailable); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, a.describeMountTarget(created), nil
}

func (a *API) describeMountTarget(m store.MountTarget) mountTargetDescription {
	return mountTargetDescription{
		OwnerID:              a.cfg.AccountID,
		MountTargetID:        m.ID,
		FileSystemID:         m.FileSystemID,
		SubnetID:             m.SubnetID,
		LifeCycleState:       m.State,
		IPAddress:            m.IPAddress,
		NetworkInterfaceID:   m.NetworkInterfaceID,
		AvailabilityZoneID:   a.availabilityZoneID(),
		AvailabilityZoneName: m.AvailabilityZoneName,
		VpcID:                "vpc-tarn",
	}
}

func (a *API) describeMountTargets(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	size, after, err := page(r, "MaxItems", "Marker", 100)
	if err != nil {
		return 0, nil, err
	}
	var list []store.MountTarget
	mtID, fsID, apID := q.Get("MountTargetId"), q.Get("FileSystemId"), q.Get("AccessPointId")
	given := 0
	for _, v := range []string{mtID, fsID, apID} {
		if v != "" {
			given++
		}
	}
	if given != 1 {
		return 0, nil, awsapi.Errorf(http.StatusBadRequest, "BadRequest", "give exactly one of FileSystemId, MountTargetId or AccessPointId")
	}
	switch {
	case mtID != "":
		if err := awsapi.CheckPattern(mtID, "mountTargetId", mountTargetIDPattern); err != nil {
			return 0, nil, err
		}
		m, err := a.cfg.Store.MountTarget(r.Context(), mtID)
		if err != nil {
			return 0, nil, notFound(err, "MountTargetNotFound", "mount target "+mtID)
		}
		list = []store.MountTarget{m}
	case apID != "":
		ap, err := a.lookupAccessPoint(r.Context(), apID)
		if err != nil {
			return 0, nil, err
		}
		fsID = ap.FileSystemID
		fallthrough
	default:
		f, err := a.lookupFileSystem(r.Context(), fsID)
		if err != nil {
			return 0, nil, err
		}
		if list, err = a.cfg.Store.MountTargets(r.Context(), f.ID, after, size+1); err != nil {
			return 0, nil, err
		}
	}
	out := struct {
		Marker       string                   `json:"Marker,omitempty"`
		MountTargets []mountTargetDescription `json:"MountTargets"`
		NextMarker   string                   `json:"NextMarker,omitempty"`
	}{Marker: q.Get("Marker"), MountTargets: []mountTargetDescription{}}
	if len(list) > size {
		list = list[:size]
		out.NextMarker = nextToken(list[size-1].ID)
	}
	for _, m := range list {
		out.MountTargets = append(out.MountTargets, a.describeMountTarget(m))
	}
	return http.StatusOK, out, nil
}

func (a *API) deleteMountTarget(r *http.Request) (int, any, error) {
	id := r.PathValue("MountTargetId")
	if err := awsapi.CheckPattern(id, "mountTargetId", mountTargetIDPattern); err != nil {
		return 0, nil, err
	}
	if err := a.cfg.Store.DeleteMountTarget(r.Context(), id); err != nil {
		return 0, nil, notFound(err, "MountTargetNotFound", "mount target "+id)
	}
	return http.StatusNoContent, nil, nil
}
