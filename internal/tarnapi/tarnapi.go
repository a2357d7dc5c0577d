// Package tarnapi serves Tarn's own operations that have no AWS counterpart,
// on the control port under /tarn/v1/ and signed with SigV4 for the service
// name "tarn": local mounts of a file system on the server's host, and file
// system checks. Bodies are JSON; errors have the same shape as the other
// APIs ({"message": …} with x-amzn-ErrorType).
package tarnapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/filesvc"
	"tarn.dev/tarn/internal/store"
	"tarn.dev/tarn/internal/vfs"
)

// ServiceName is the SigV4 service name of this API.
const ServiceName = "tarn"

// Files is what the API needs of the file service.
type Files interface {
	MountWith(ctx context.Context, fsID, mountpoint string, opts filesvc.MountOptions) (filesvc.MountInfo, error)
	Unmount(mountpoint string) error
	Mounts() []filesvc.MountInfo
	Fsck(ctx context.Context, fsID string, repair bool) (vfs.Report, error)
}

// ClientAccess decides what the caller of ctx may do with a file system
// (reached through the access point apArn, or "" for none), as EFS decides
// at mount time from IAM: ClientMount, ClientWrite, ClientRootAccess.
type ClientAccess func(ctx context.Context, fsID, fsArn, apArn string) (mount, write, root bool, principal string, err error)

// API is the handler of /tarn/v1/.
type API struct {
	files  Files
	store  *store.Store
	access ClientAccess
	arn    func(kind, id string) string
	mux    *http.ServeMux
}

// Config configures the API.
type Config struct {
	Files  Files
	Store  *store.Store
	Access ClientAccess // nil: every caller may mount, write and act as root
	// ARN returns the ARN of a file system or access point ("file-system",
	// "access-point").
	ARN func(kind, id string) string
}

// New returns the API handler.
func New(cfg Config) *API {
	a := &API{files: cfg.Files, store: cfg.Store, access: cfg.Access, arn: cfg.ARN, mux: http.NewServeMux()}
	a.mux.Handle("GET /tarn/v1/mounts", a.endpoint(a.listMounts))
	a.mux.Handle("POST /tarn/v1/mounts", a.endpoint(a.mount))
	a.mux.Handle("DELETE /tarn/v1/mounts", a.endpoint(a.unmount))
	a.mux.Handle("POST /tarn/v1/file-systems/{FileSystemId}/fsck", a.endpoint(a.fsck))
	a.mux.Handle("/", a.endpoint(func(r *http.Request) (int, any, error) {
		return 0, nil, awsapi.Errorf(http.StatusNotFound, "UnknownOperationException", "no tarn operation is %s %s", r.Method, r.URL.Path)
	}))
	return a
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

func (a *API) endpoint(h func(*http.Request) (int, any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, body, err := h(r)
		if err != nil {
			awsapi.WriteError(w, r, awsapi.LowerStyle, err)
			return
		}
		if body == nil {
			w.WriteHeader(status)
			return
		}
		awsapi.WriteJSON(w, status, body)
	})
}

func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return awsapi.Errorf(http.StatusBadRequest, "BadRequest", "reading request body: %v", err)
	}
	return awsapi.DecodeJSON(body, v)
}

type mountOut struct {
	FileSystemID  string    `json:"FileSystemId"`
	AccessPointID string    `json:"AccessPointId,omitempty"`
	MountPoint    string    `json:"MountPoint"`
	ReadOnly      bool      `json:"ReadOnly"`
	SquashRoot    bool      `json:"SquashRoot"`
	Mounted       time.Time `json:"Mounted"`
}

func mountView(m filesvc.MountInfo) mountOut {
	return mountOut{FileSystemID: m.FileSystemID, AccessPointID: m.AccessPointID, MountPoint: m.MountPoint,
		ReadOnly: m.ReadOnly, SquashRoot: m.SquashRoot, Mounted: m.Mounted.UTC()}
}

func (a *API) listMounts(r *http.Request) (int, any, error) {
	out := struct {
		Mounts []mountOut `json:"Mounts"`
	}{Mounts: []mountOut{}}
	for _, m := range a.files.Mounts() {
		out.Mounts = append(out.Mounts, mountView(m))
	}
	return http.StatusOK, out, nil
}

// fileSystem checks that id names an available file system.
func (a *API) fileSystem(r *http.Request, id string) error {
	if id == "" {
		return awsapi.Errorf(http.StatusBadRequest, "ValidationException", "FileSystemId is required")
	}
	f, err := a.store.FileSystem(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return awsapi.Errorf(http.StatusNotFound, "FileSystemNotFound", "file system %s does not exist", id)
	}
	if err != nil {
		return err
	}
	if f.State != store.StateAvailable {
		return awsapi.Errorf(http.StatusConflict, "IncorrectFileSystemLifeCycleState", "file system %s is %s, not available", id, f.State)
	}
	return nil
}

func (a *API) mount(r *http.Request) (int, any, error) {
	var in struct {
		FileSystemID  string `json:"FileSystemId"`
		AccessPointID string `json:"AccessPointId"`
		MountPoint    string `json:"MountPoint"`
		ReadOnly      bool   `json:"ReadOnly"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if err := a.fileSystem(r, in.FileSystemID); err != nil {
		return 0, nil, err
	}
	if in.MountPoint == "" {
		return 0, nil, awsapi.Errorf(http.StatusBadRequest, "ValidationException", "MountPoint is required")
	}
	opts := filesvc.MountOptions{ReadOnly: in.ReadOnly}
	apArn := ""
	if in.AccessPointID != "" {
		ap, err := a.store.AccessPoint(r.Context(), in.AccessPointID)
		if errors.Is(err, store.ErrNotFound) {
			return 0, nil, awsapi.Errorf(http.StatusNotFound, "AccessPointNotFound", "access point %s does not exist", in.AccessPointID)
		}
		if err != nil {
			return 0, nil, err
		}
		if ap.FileSystemID != in.FileSystemID {
			return 0, nil, awsapi.Errorf(http.StatusBadRequest, "BadRequest",
				"access point %s belongs to file system %s, not %s", ap.ID, ap.FileSystemID, in.FileSystemID)
		}
		if ap.State != store.StateAvailable {
			return 0, nil, awsapi.Errorf(http.StatusConflict, "IncorrectMountTargetState", "access point %s is %s", ap.ID, ap.State)
		}
		opts.AccessPoint = filesvc.AccessPointOf(ap)
		if a.arn != nil {
			apArn = a.arn("access-point", ap.ID)
		}
	}
	if a.access != nil {
		fsArn := ""
		if a.arn != nil {
			fsArn = a.arn("file-system", in.FileSystemID)
		}
		mount, write, root, principal, err := a.access(r.Context(), in.FileSystemID, fsArn, apArn)
		if err != nil {
			return 0, nil, err
		}
		if !mount {
			return 0, nil, awsapi.Errorf(http.StatusForbidden, "AccessDeniedException",
				"%s is not authorized to perform elasticfilesystem:ClientMount on %s", principal, fsArn)
		}
		opts.ReadOnly = opts.ReadOnly || !write
		opts.SquashRoot = !root
	}
	m, err := a.files.MountWith(r.Context(), in.FileSystemID, in.MountPoint, opts)
	if err != nil {
		return 0, nil, awsapi.Errorf(http.StatusBadRequest, "MountFailure", "%v", err)
	}
	return http.StatusOK, mountView(m), nil
}

func (a *API) unmount(r *http.Request) (int, any, error) {
	mp := r.URL.Query().Get("MountPoint")
	if mp == "" {
		return 0, nil, awsapi.Errorf(http.StatusBadRequest, "ValidationException", "MountPoint is required")
	}
	if err := a.files.Unmount(mp); err != nil {
		if errors.Is(err, filesvc.ErrNotMounted) {
			return 0, nil, awsapi.Errorf(http.StatusNotFound, "MountNotFound", "%v", err)
		}
		return 0, nil, awsapi.Errorf(http.StatusConflict, "UnmountFailure", "%v", err)
	}
	return http.StatusNoContent, nil, nil
}

func (a *API) fsck(r *http.Request) (int, any, error) {
	id := r.PathValue("FileSystemId")
	var in struct {
		Repair bool `json:"Repair"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if err := a.fileSystem(r, id); err != nil {
		return 0, nil, err
	}
	rep, err := a.files.Fsck(r.Context(), id, in.Repair)
	if err != nil {
		return 0, nil, err
	}
	problems := rep.Problems
	if problems == nil {
		problems = []string{}
	}
	return http.StatusOK, map[string]any{"FileSystemId": id, "OK": rep.OK(), "Repaired": rep.Repaired, "Problems": problems,
		"Inodes": rep.Inodes, "Entries": rep.Entries, "Slices": rep.Slices, "Blocks": rep.Blocks}, nil
}
