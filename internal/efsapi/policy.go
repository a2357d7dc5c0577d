package efsapi

import (
	"net/http"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/iam"
)

// checkPolicy parses a file-system (resource) policy and reports the first
// problem with its line and column.
func checkPolicy(doc string) error {
	if _, err := iam.ParseAs(doc, iam.Resource); err != nil {
		return awsapi.Errorf(http.StatusBadRequest, "InvalidPolicyException", "invalid policy: %v", err)
	}
	return nil
}

func (a *API) putFileSystemPolicy(r *http.Request) (int, any, error) {
	id, err := a.fileSystemID(r)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Policy                         *string `json:"Policy"`
		BypassPolicyLockoutSafetyCheck *bool   `json:"BypassPolicyLockoutSafetyCheck"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Policy == nil {
		return 0, nil, awsapi.Required("policy")
	}
	if len(*in.Policy) > maxPolicyChars {
		return 0, nil, awsapi.Errorf(http.StatusBadRequest, "InvalidPolicyException",
			"policy is %d characters long; the limit is %d", len(*in.Policy), maxPolicyChars)
	}
	if _, err := a.cfg.Store.FileSystem(r.Context(), id); err != nil {
		return 0, nil, notFound(err, "FileSystemNotFound", "file system "+id)
	}
	if err := checkPolicy(*in.Policy); err != nil {
		return 0, nil, err
	}
	if err := a.cfg.Store.PutFileSystemPolicy(r.Context(), id, *in.Policy); err != nil {
		return 0, nil, notFound(err, "FileSystemNotFound", "file system "+id)
	}
	return http.StatusOK, policyOut{FileSystemID: id, Policy: *in.Policy}, nil
}

type policyOut struct {
	FileSystemID string `json:"FileSystemId"`
	Policy       string `json:"Policy"`
}

func (a *API) describeFileSystemPolicy(r *http.Request) (int, any, error) {
	id, err := a.fileSystemID(r)
	if err != nil {
		return 0, nil, err
	}
	if _, err := a.cfg.Store.FileSystem(r.Context(), id); err != nil {
		return 0, nil, notFound(err, "FileSystemNotFound", "file system "+id)
	}
	policy, ok, err := a.cfg.Store.FileSystemPolicy(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	if !ok {
		return 0, nil, awsapi.Errorf(http.StatusNotFound, "PolicyNotFound",
			"file system %s has no policy: the default policy applies", id)
	}
	return http.StatusOK, policyOut{FileSystemID: id, Policy: policy}, nil
}

func (a *API) deleteFileSystemPolicy(r *http.Request) (int, any, error) {
	id, err := a.fileSystemID(r)
	if err != nil {
		return 0, nil, err
	}
	if _, err := a.cfg.Store.FileSystem(r.Context(), id); err != nil {
		return 0, nil, notFound(err, "FileSystemNotFound", "file system "+id)
	}
	if err := a.cfg.Store.DeleteFileSystemPolicy(r.Context(), id); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, nil, nil
}
