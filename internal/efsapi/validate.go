package efsapi

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/store"
)

var (
	fileSystemIDPattern  = regexp.MustCompile(`^(arn:aws[-a-z]*:elasticfilesystem:[0-9a-z-:]+:file-system/fs-[0-9a-f]{8,40}|fs-[0-9a-f]{8,40})$`)
	accessPointIDPattern = regexp.MustCompile(`^(arn:aws[-a-z]*:elasticfilesystem:[0-9a-z-:]+:access-point/fsap-[0-9a-f]{8,40}|fsap-[0-9a-f]{8,40})$`)
	mountTargetIDPattern = regexp.MustCompile(`^fsmt-[0-9a-f]{8,40}$`)
	subnetIDPattern      = regexp.MustCompile(`^subnet-[0-9a-f]{8,40}$`)
	securityGroupPattern = regexp.MustCompile(`^sg-[0-9a-f]{8,40}$`)
	tagKeyPattern        = regexp.MustCompile(`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)
	permissionsPattern   = regexp.MustCompile(`^[0-7]{3,4}$`)
)

// localID returns the bare id of an id-or-ARN value ("…/fs-123" →
// "fs-123"). An ARN of another region or account is returned whole, so that
// looking it up finds nothing, as on AWS.
func (a *API) localID(v string) string {
	if parts := strings.SplitN(v, ":", 6); len(parts) == 6 && (parts[3] != a.cfg.Region || parts[4] != a.cfg.AccountID) {
		return v
	}
	return idFrom(v)
}

// idFrom returns the bare id of an id-or-ARN value ("…/fs-123" → "fs-123").
func idFrom(v string) string {
	if i := strings.LastIndexByte(v, '/'); i >= 0 {
		return v[i+1:]
	}
	return v
}

// checkTags validates a Tags member and converts it.
func checkTags(tags []wireTag, field string) ([]store.Tag, error) {
	if len(tags) > 50 {
		return nil, awsapi.Validation(len(tags), field, "Member must have length less than or equal to 50")
	}
	out := make([]store.Tag, 0, len(tags))
	seen := map[string]bool{}
	for i, t := range tags {
		f := fmt.Sprintf("%s.%d.member", field, i+1)
		if t.Key == nil {
			return nil, awsapi.Required(f + ".key")
		}
		if t.Value == nil {
			return nil, awsapi.Required(f + ".value")
		}
		if err := awsapi.CheckLength(*t.Key, f+".key", 1, 128); err != nil {
			return nil, err
		}
		if err := awsapi.CheckPattern(*t.Key, f+".key", tagKeyPattern); err != nil {
			return nil, err
		}
		if err := awsapi.CheckLength(*t.Value, f+".value", 0, 256); err != nil {
			return nil, err
		}
		if strings.HasPrefix(*t.Key, "aws:") {
			return nil, awsapi.Errorf(http.StatusBadRequest, "BadRequest", "tag key %q: the aws: prefix is reserved", *t.Key)
		}
		if seen[*t.Key] {
			return nil, awsapi.Errorf(http.StatusBadRequest, "BadRequest", "tag key %q appears more than once", *t.Key)
		}
		seen[*t.Key] = true
		out = append(out, store.Tag{Key: *t.Key, Value: *t.Value})
	}
	return out, nil
}

func tagsOut(tags []store.Tag) []tagOut {
	out := make([]tagOut, 0, len(tags))
	for _, t := range tags {
		out = append(out, tagOut{Key: t.Key, Value: t.Value})
	}
	return out
}

func nameTag(tags []store.Tag) string {
	for _, t := range tags {
		if t.Key == "Name" {
			return t.Value
		}
	}
	return ""
}

// page reads the page size and continuation token of a list request.
// The token is the last id of the previous page, base64-encoded.
func page(r *http.Request, sizeParam, tokenParam string, max int) (size int, after string, err error) {
	q := r.URL.Query()
	size = max
	if s := q.Get(sizeParam); s != "" {
		n, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil {
			return 0, "", awsapi.Validation(s, sizeParam, "Member must be an integer")
		}
		if err := awsapi.CheckRange(n, sizeParam, 1, 1<<31-1); err != nil {
			return 0, "", err
		}
		size = int(min(n, int64(max)))
	}
	if t := q.Get(tokenParam); t != "" {
		b, derr := base64.RawURLEncoding.DecodeString(t)
		if derr != nil || len(b) == 0 {
			return 0, "", awsapi.Errorf(http.StatusBadRequest, "BadRequest", "%s %q is not a token this API returned", tokenParam, t)
		}
		after = string(b)
	}
	return size, after, nil
}

func nextToken(lastID string) string { return base64.RawURLEncoding.EncodeToString([]byte(lastID)) }

// checkRootPath validates an access point's root directory path: "/" or at
// most four components, none empty or starting with ".", free of the
// characters $#<>;`|&?{}^* and newline, 1–100 characters in all. (The service
// states this with a look-ahead regular expression, which Go's RE2 lacks.)
func checkRootPath(p string) error {
	const field = "rootDirectory.path"
	if err := awsapi.CheckLength(p, field, 1, 100); err != nil {
		return err
	}
	const constraint = "Member must satisfy regular expression pattern: ^(\\/|(\\/(?!\\.)+[^$#<>;`|&?{}^*/\\n]+){1,4})$"
	if p == "/" {
		return nil
	}
	if !strings.HasPrefix(p, "/") {
		return awsapi.Validation(p, field, constraint)
	}
	parts := strings.Split(p[1:], "/")
	if len(parts) > 4 {
		return awsapi.Validation(p, field, constraint)
	}
	for _, c := range parts {
		if c == "" || strings.HasPrefix(c, ".") || strings.ContainsAny(c, "$#<>;`|&?{}^*\n") {
			return awsapi.Validation(p, field, constraint)
		}
	}
	return nil
}
