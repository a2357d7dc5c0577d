// Package efsapi serves the Amazon EFS control API (rest-json, version
// 2015-02-01) over Tarn's control-plane store: file systems, access points,
// mount targets, file-system policies and tags.
//
// Handlers parse and validate the request, call the store, and render the
// result; every failure is an *awsapi.Error rendered once by ServeHTTP with
// the EFS error body and the x-amzn-ErrorType header. Request signatures are
// checked before a request reaches this package.
package efsapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/store"
)

// Limits of the EFS API, as AWS sets them.
const (
	MaxFileSystems              = 1000
	MaxAccessPointsPerFS        = 10000
	maxBody                     = 1 << 20
	maxPolicyChars              = 20000
	newFileSystemSize           = 6144 // metered size of an empty file system: its root directory
	throughputChangeQuietPeriod = 24 * time.Hour
)

// Provisioner brings the data side of a file system into being and removes
// it. The server's file service implements it; a nil Provisioner makes
// records available at once.
type Provisioner interface {
	ProvisionFileSystem(ctx context.Context, fsID string) error
	DestroyFileSystem(ctx context.Context, fsID string) error
}

// Usage reports the metered size of a file system in bytes; ok is false when
// the file service has no figure for it.
type Usage func(fsID string) (bytes int64, ok bool)

// Config configures the API.
type Config struct {
	Store        *store.Store
	AccountID    string
	Region       string
	MountAddress string // IP address mount targets report (the file service's address)
	Provisioner  Provisioner
	Usage        Usage
	// Authorize decides whether the caller of ctx may perform action on
	// resource (an ARN); nil allows everything.
	Authorize func(ctx context.Context, action, resource string) error
	Now       func() time.Time // nil: time.Now
	Log       *slog.Logger     // nil: slog.Default()
}

// API is the EFS control API handler.
type API struct {
	cfg Config
	mux *http.ServeMux
}

// New returns the EFS API handler.
func New(cfg Config) *API {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	a := &API{cfg: cfg, mux: http.NewServeMux()}
	type route struct {
		action string // IAM action, elasticfilesystem:<action>
		h      func(*http.Request) (int, any, error)
	}
	routes := map[string]route{
		"POST /2015-02-01/file-systems":                         {"CreateFileSystem", a.createFileSystem},
		"GET /2015-02-01/file-systems":                          {"DescribeFileSystems", a.describeFileSystems},
		"PUT /2015-02-01/file-systems/{FileSystemId}":           {"UpdateFileSystem", a.updateFileSystem},
		"DELETE /2015-02-01/file-systems/{FileSystemId}":        {"DeleteFileSystem", a.deleteFileSystem},
		"POST /2015-02-01/access-points":                        {"CreateAccessPoint", a.createAccessPoint},
		"GET /2015-02-01/access-points":                         {"DescribeAccessPoints", a.describeAccessPoints},
		"DELETE /2015-02-01/access-points/{AccessPointId}":      {"DeleteAccessPoint", a.deleteAccessPoint},
		"POST /2015-02-01/mount-targets":                        {"CreateMountTarget", a.createMountTarget},
		"GET /2015-02-01/mount-targets":                         {"DescribeMountTargets", a.describeMountTargets},
		"DELETE /2015-02-01/mount-targets/{MountTargetId}":      {"DeleteMountTarget", a.deleteMountTarget},
		"PUT /2015-02-01/file-systems/{FileSystemId}/policy":    {"PutFileSystemPolicy", a.putFileSystemPolicy},
		"GET /2015-02-01/file-systems/{FileSystemId}/policy":    {"DescribeFileSystemPolicy", a.describeFileSystemPolicy},
		"DELETE /2015-02-01/file-systems/{FileSystemId}/policy": {"DeleteFileSystemPolicy", a.deleteFileSystemPolicy},
		"POST /2015-02-01/resource-tags/{ResourceId}":           {"TagResource", a.tagResource},
		"GET /2015-02-01/resource-tags/{ResourceId}":            {"ListTagsForResource", a.listTagsForResource},
		"DELETE /2015-02-01/resource-tags/{ResourceId}":         {"UntagResource", a.untagResource},
		"POST /2015-02-01/create-tags/{FileSystemId}":           {"CreateTags", a.createTags},
		"POST /2015-02-01/delete-tags/{FileSystemId}":           {"DeleteTags", a.deleteTags},
		"GET /2015-02-01/tags/{FileSystemId}/":                  {"DescribeTags", a.describeTags},
	}
	for pattern, rt := range routes {
		a.mux.Handle(pattern, a.endpoint(a.authorized("elasticfilesystem:"+rt.action, rt.h)))
	}
	a.mux.Handle("/", a.endpoint(func(r *http.Request) (int, any, error) {
		return 0, nil, awsapi.Errorf(http.StatusNotFound, "UnknownOperationException",
			"no EFS operation is %s %s", r.Method, r.URL.Path)
	}))
	return a
}

// ServeHTTP serves one EFS API request.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// http.ServeMux would answer an unclean path ("/a/../b", "//x") with a
	// redirect; an API names no such operation.
	p := r.URL.Path
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	if clean != p {
		awsapi.WriteError(w, r, awsapi.EFSStyle, awsapi.Errorf(http.StatusNotFound, "UnknownOperationException",
			"no EFS operation is %s %s", r.Method, p))
		return
	}
	a.mux.ServeHTTP(w, r)
}

// endpoint adapts a handler that returns (status, body, error) to
// http.Handler, rendering errors once.
func (a *API) endpoint(h func(*http.Request) (int, any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, body, err := h(r)
		if err != nil {
			var ae *awsapi.Error
			if !errors.As(err, &ae) {
				a.cfg.Log.Error("efs api", "op", r.Method+" "+r.URL.Path, "request_id", awsapi.RequestID(r.Context()), "err", err)
			}
			awsapi.WriteError(w, r, awsapi.EFSStyle, err)
			return
		}
		if body == nil {
			w.WriteHeader(status)
			return
		}
		awsapi.WriteJSON(w, status, body)
	})
}

// authorized checks the caller's permission for action on the resource the
// request names (a file system or access point ARN, or every file system of
// the account for calls that name none) before running h.
func (a *API) authorized(action string, h func(*http.Request) (int, any, error)) func(*http.Request) (int, any, error) {
	return func(r *http.Request) (int, any, error) {
		if a.cfg.Authorize != nil {
			if err := a.cfg.Authorize(r.Context(), action, a.resourceARN(r)); err != nil {
				return 0, nil, err
			}
		}
		return h(r)
	}
}

// resourceARN is the ARN of the resource a request acts on.
func (a *API) resourceARN(r *http.Request) string {
	id := r.PathValue("FileSystemId")
	if id == "" {
		id = r.PathValue("ResourceId")
	}
	if id == "" {
		id = r.PathValue("AccessPointId")
	}
	if id == "" {
		id = r.URL.Query().Get("FileSystemId")
	}
	id = a.localID(id)
	switch {
	case strings.HasPrefix(id, "fs-"):
		return a.arn("file-system", id)
	case strings.HasPrefix(id, "fsap-"):
		return a.arn("access-point", id)
	}
	return a.arn("file-system", "*")
}

// decode reads and decodes the JSON body of r into v.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return awsapi.Errorf(http.StatusBadRequest, "BadRequest", "reading request body: %v", err)
	}
	if len(body) > maxBody {
		return awsapi.Errorf(http.StatusRequestEntityTooLarge, "BadRequest", "request body is larger than %d bytes", maxBody)
	}
	return awsapi.DecodeJSON(body, v)
}

// newID returns prefix followed by 17 random hex digits, the form of new EFS ids.
func newID(prefix string) string {
	var b [9]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])[:17]
}

func (a *API) arn(kind, id string) string {
	return fmt.Sprintf("arn:aws:elasticfilesystem:%s:%s:%s/%s", a.cfg.Region, a.cfg.AccountID, kind, id)
}

func (a *API) availabilityZone() string { return a.cfg.Region + "a" }

// notFound translates store.ErrNotFound into the EFS error for kind.
func notFound(err error, code, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return awsapi.Errorf(http.StatusNotFound, code, "%s does not exist", id)
	}
	return err
}
