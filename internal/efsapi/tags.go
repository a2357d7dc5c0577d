package efsapi

import (
	"net/http"
	"regexp"
	"strings"
	"tarn.dev/tarn/internal/awsapi"
)

var resourceIDPattern = regexp.MustCompile(`^(fs-[0-9a-f]{8,40}|fsap-[0-9a-f]{8,40})$`)

// resourceID reads and validates the {ResourceId} of a tagging call and
// returns it with the not-found error code that fits its kind.
func resourceID(r *http.Request) (id, notFoundCode string, err error) {
	id = idFrom(r.PathValue("ResourceId"))
	if err := awsapi.CheckPattern(id, "resourceId", resourceIDPattern); err != nil {
		return "", "", err
	}
	if strings.HasPrefix(id, "fsap-") {
		return id, "AccessPointNotFound", nil
	}
	return id, "FileSystemNotFound", nil
}

func (a *API) tagResource(r *http.Request) (int, any, error) {
	id, code, err := resourceID(r)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Tags []wireTag `json:"Tags"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Tags == nil {
		return 0, nil, awsapi.Required("tags")
	}
	tags, err := checkTags(in.Tags, "tags")
	if err != nil {
		return 0, nil, err
	}
	if err := a.cfg.Store.TagResource(r.Context(), id, tags); err != nil {
		return 0, nil, notFound(err, code, id)
	}
	return http.StatusOK, nil, nil
}

func (a *API) untagResource(r *http.Request) (int, any, error) {
	id, code, err := resourceID(r)
	if err != nil {
		return 0, nil, err
	}
	keys := r.URL.Query()["tagKeys"]
	if len(keys) == 0 {
		return 0, nil, awsapi.Required("tagKeys")
	}
	if err := a.cfg.Store.UntagResource(r.Context(), id, keys); err != nil {
		return 0, nil, notFound(err, code, id)
	}
	return http.StatusOK, nil, nil
}

func (a *API) listTagsForResource(r *http.Request) (int, any, error) {
	id, code, err := resourceID(r)
	if err != nil {
		return 0, nil, err
	}
	size, after, err := page(r, "MaxResults", "NextToken", 100)
	if err != nil {
		return 0, nil, err
	}
	tags, err := a.cfg.Store.Tags(r.Context(), id)
	if err != nil {
		return 0, nil, notFound(err, code, id)
	}
	out := struct {
		Tags      []tagOut `json:"Tags"`
		NextToken string   `json:"NextToken,omitempty"`
	}{Tags: []tagOut{}}
	for _, t := range tags {
		if t.Key <= after {
			continue
		}
		if len(out.Tags) == size {
			out.NextToken = nextToken(out.Tags[size-1].Key)
			break
		}
		out.Tags = append(out.Tags, tagOut{Key: t.Key, Value: t.Value})
	}
	return http.StatusOK, out, nil
}

// The legacy tagging calls (CreateTags, DeleteTags, DescribeTags) work on
// file systems only and answer 204 on success.

func (a *API) createTags(r *http.Request) (int, any, error) {
	id, err := a.fileSystemID(r)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		Tags []wireTag `json:"Tags"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Tags == nil {
		return 0, nil, awsapi.Required("tags")
	}
	tags, err := checkTags(in.Tags, "tags")
	if err != nil {
		return 0, nil, err
	}
	if err := a.cfg.Store.TagResource(r.Context(), id, tags); err != nil {
		return 0, nil, notFound(err, "FileSystemNotFound", "file system "+id)
	}
	return http.StatusNoContent, nil, nil
}

func (a *API) deleteTags(r *http.Request) (int, any, error) {
	id, err := a.fileSystemID(r)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		TagKeys []string `json:"TagKeys"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if len(in.TagKeys) == 0 {
		return 0, nil, awsapi.Required("tagKeys")
	}
	if err := a.cfg.Store.UntagResource(r.Context(), id, in.TagKeys); err != nil {
		return 0, nil, notFound(err, "FileSystemNotFound", "file system "+id)
	}
	return http.StatusNoContent, nil, nil
}

func (a *API) describeTags(r *http.Request) (int, any, error) {
	id, err := a.fileSystemID(r)
	if err != nil {
		return 0, nil, err
	}
	tags, err := a.cfg.Store.Tags(r.Context(), id)
	if err != nil {
		return 0, nil, notFound(err, "FileSystemNotFound", "file system "+id)
	}
	return http.StatusOK, struct {
		Tags []tagOut `json:"Tags"`
	}{tagsOut(tags)}, nil
}
