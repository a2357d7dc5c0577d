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
	Mount(ctx context.Context, fsID, mountpoint string, readOnly bool) (filesvc.MountInfo, error)
	Unmount(mountpoint string) error
	Mounts() []filesvc.MountInfo
	Fsck(ctx context.Context, fsID string, repair bool) (vfs.Report, error)
}

// API is the handler of /tarn/v1/.
type API struct {
	files Files
	store *store.Store
	mux   *http.ServeMux
}

// New returns the API handler.
func New(files Files, st *store.Store) *API {
	a := &API{files: files, store: st, mux: http.NewServeMux()}
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
	FileSystemID string    `json:"FileSystemId"`
	MountPoint   string    `json:"MountPoint"`
	ReadOnly     bool      `json:"ReadOnly"`
	Mounted      time.Time `json:"Mounted"`
}

func mountView(m filesvc.MountInfo) mountOut {
	return mountOut{FileSystemID: m.FileSystemID, MountPoint: m.MountPoint, ReadOnly: m.ReadOnly, Mounted: m.Mounted.UTC()}
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
		FileSystemID string `json:"FileSystemId"`
		MountPoint   string `json:"MountPoint"`
		ReadOnly     bool   `json:"ReadOnly"`
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
	m, err := a.files.Mount(r.Context(), in.FileSystemID, in.MountPoint, in.ReadOnly)
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
