package efsapi

import (
	"context"
	"net/http"
	"regexp"
	"strings"

	"tarn.dev/tarn/internal/awsapi"
)

// The current tagging calls (TagResource, UntagResource,
// ListTagsForResource) take a file system or access point id and answer 200.
// The legacy ones (CreateTags, DeleteTags, DescribeTags) take a file system
// id or ARN, name it "file system …" when it does not exist, and answer 204
// to a change.

var resourceIDPattern = regexp.MustCompile(`^(fs-[0-9a-f]{8,40}|fsap-[0-9a-f]{8,40})$`)

// tagged is the resource a tagging call acts on.
type tagged struct {
	id           string
	notFoundCode string // the error code when id does not exist
	label        string // how a not-found message names id
}

// currentResource reads and validates the {ResourceId} of a current tagging
// call.
func currentResource(r *http.Request) (tagged, error) {
	id := idFrom(r.PathValue("ResourceId"))
	if err := awsapi.CheckPattern(id, "resourceId", resourceIDPattern); err != nil {
		return tagged{}, err
	}
	if strings.HasPrefix(id, "fsap-") {
		return tagged{id, "AccessPointNotFound", id}, nil
	}
	return tagged{id, "FileSystemNotFound", id}, nil
}

// legacyResource reads and validates the {FileSystemId} of a legacy tagging
// call.
func (a *API) legacyResource(r *http.Request) (tagged, error) {
	id, err := a.fileSystemID(r)
	if err != nil {
		return tagged{}, err
	}
	return tagged{id, "FileSystemNotFound", "file system " + id}, nil
}

func (t tagged) notFound(err error) error { return notFound(err, t.notFoundCode, t.label) }

// addTags reads the Tags member of r's body, checks it and adds the tags to t.
func (a *API) addTags(r *http.Request, t tagged) error {
	var in struct {
		Tags []wireTag `json:"Tags"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Tags == nil {
		return awsapi.Required("tags")
	}
	tags, err := checkTags(in.Tags, "tags")
	if err != nil {
		return err
	}
	if err := a.cfg.Store.TagResource(r.Context(), t.id, tags); err != nil {
		return t.notFound(err)
	}
	return nil
}

// removeTags removes the tags with keys from t.
func (a *API) removeTags(ctx context.Context, t tagged, keys []string) error {
	if len(keys) == 0 {
		return awsapi.Required("tagKeys")
	}
	if err := a.cfg.Store.UntagResource(ctx, t.id, keys); err != nil {
		return t.notFound(err)
	}
	return nil
}

func (a *API) tagResource(r *http.Request) (int, any, error) {
	t, err := currentResource(r)
	if err != nil {
		return 0, nil, err
	}
	if err := a.addTags(r, t); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, nil, nil
}

func (a *API) untagResource(r *http.Request) (int, any, error) {
	t, err := currentResource(r)
	if err != nil {
		return 0, nil, err
	}
	if err := a.removeTags(r.Context(), t, r.URL.Query()["tagKeys"]); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, nil, nil
}

func (a *API) listTagsForResource(r *http.Request) (int, any, error) {
	t, err := currentResource(r)
	if err != nil {
		return 0, nil, err
	}
	size, after, err := page(r, "MaxResults", "NextToken", 100)
	if err != nil {
		return 0, nil, err
	}
	tags, err := a.cfg.Store.Tags(r.Context(), t.id)
	if err != nil {
		return 0, nil, t.notFound(err)
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

func (a *API) createTags(r *http.Request) (int, any, error) {
	t, err := a.legacyResource(r)
	if err != nil {
		return 0, nil, err
	}
	if err := a.addTags(r, t); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (a *API) deleteTags(r *http.Request) (int, any, error) {
	t, err := a.legacyResource(r)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		TagKeys []string `json:"TagKeys"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if err := a.removeTags(r.Context(), t, in.TagKeys); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (a *API) describeTags(r *http.Request) (int, any, error) {
	t, err := a.legacyResource(r)
	if err != nil {
		return 0, nil, err
	}
	tags, err := a.cfg.Store.Tags(r.Context(), t.id)
	if err != nil {
		return 0, nil, t.notFound(err)
	}
	return http.StatusOK, struct {
		Tags []tagOut `json:"Tags"`
	}{tagsOut(tags)}, nil
}
