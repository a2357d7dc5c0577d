package efsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	"tarn.dev/tarn/internal/awsapi"
)

// checkPolicy parses a resource policy document and reports the first
// problem with its position. Full evaluation lives in the iam package; here
// the document must be a JSON object with a Statement whose entries each have
// an Effect of Allow or Deny and an Action or NotAction.
func checkPolicy(doc string) error {
	invalid := func(format string, args ...any) error {
		return awsapi.Errorf(http.StatusBadRequest, "InvalidPolicyException", format, args...)
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader([]byte(doc)))
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := position(doc, se.Offset)
			return invalid("policy is not valid JSON at line %d, column %d: %v", line, col, err)
		}
		return invalid("policy is not valid JSON: %v", err)
	}
	if dec.More() {
		line, col := position(doc, dec.InputOffset())
		return invalid("policy has data after the JSON document at line %d, column %d", line, col)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return invalid("policy must be a JSON object")
	}
	if ver, ok := obj["Version"]; ok && ver != "2012-10-17" && ver != "2008-10-17" {
		return invalid("policy Version %v is not supported: use \"2012-10-17\"", ver)
	}
	st, ok := obj["Statement"]
	if !ok {
		return invalid("policy has no Statement")
	}
	var stmts []any
	switch s := st.(type) {
	case []any:
		stmts = s
	case map[string]any:
		stmts = []any{s}
	default:
		return invalid("policy Statement must be an object or an array of objects")
	}
	if len(stmts) == 0 {
		return invalid("policy Statement is empty")
	}
	for i, s := range stmts {
		m, ok := s.(map[string]any)
		if !ok {
			return invalid("Statement[%d] must be an object", i)
		}
		if e := m["Effect"]; e != "Allow" && e != "Deny" {
			return invalid("Statement[%d].Effect must be \"Allow\" or \"Deny\", not %v", i, e)
		}
		_, a := m["Action"]
		_, na := m["NotAction"]
		if a == na {
			return invalid("Statement[%d] must have exactly one of Action or NotAction", i)
		}
	}
	return nil
}

// position turns a byte offset into a 1-based line and column.
func position(doc string, off int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < off && i < int64(len(doc)); i++ {
		if doc[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
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
		return 0, nil, required("policy")
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
