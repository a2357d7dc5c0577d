package apigwapi

import (
	"errors"
	"net/http"
	"regexp"

	"tarn.dev/tarn/internal/store"
)

var (
	stageName    = regexp.MustCompile(`^(\$default|[a-zA-Z0-9_\-]{1,128})$`)
	variableName = regexp.MustCompile(`^[a-zA-Z0-9_]{1,64}$`)
	variableText = regexp.MustCompile(`^[a-zA-Z0-9\-._~:/?#&=,]*$`)
)

type createStageIn struct {
	StageName      string            `json:"stageName"`
	AutoDeploy     bool              `json:"autoDeploy"`
	Description    string            `json:"description"`
	StageVariables map[string]string `json:"stageVariables"`
	DeploymentID   string            `json:"deploymentId"`
}

func (a *API) createStage(r *http.Request) (int, any, error) {
	api, err := a.apiOf(r)
	if err != nil {
		return 0, nil, err
	}
	var in createStageIn
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	switch {
	case in.StageName == "":
		return 0, nil, badRequest("stageName is required")
	case !stageName.MatchString(in.StageName):
		return 0, nil, badRequest("stageName %q must be $default or 1 to 128 letters, digits, '_' or '-'", in.StageName)
	case in.StageName == api.ID:
		return 0, nil, badRequest("stageName %q is the API's id, which Tarn's gateway reads as the API in paths", in.StageName)
	case len(in.Description) > 1024:
		return 0, nil, badRequest("description must be at most 1024 characters")
	case in.DeploymentID != "":
		return 0, nil, badRequest("deploymentId is not supported: Tarn stages always serve the current routes")
	}
	for k, v := range in.StageVariables {
		if !variableName.MatchString(k) {
			return 0, nil, badRequest("stage variable name %q must be 1 to 64 letters, digits or '_'", k)
		}
		if len(v) > 2048 || !variableText.MatchString(v) {
			return 0, nil, badRequest("stage variable %s: value must be at most 2048 of the characters a-z A-Z 0-9 - . _ ~ : / ? # & = ,", k)
		}
	}
	now := a.cfg.Now()
	st := store.Stage{APIID: api.ID, Name: in.StageName, Description: in.Description, AutoDeploy: in.AutoDeploy,
		Variables: in.StageVariables, Created: now, Updated: now}
	if err := a.cfg.Store.CreateStage(r.Context(), st, MaxStages); err != nil {
		var ee *store.ExistsError
		if errors.As(err, &ee) {
			return 0, nil, conflict("Stage %s already exists", in.StageName)
		}
		return 0, nil, a.childError(err, api.ID, "stages")
	}
	return http.StatusCreated, stageView(st), nil
}

func (a *API) getStages(r *http.Request) (int, any, error) {
	api, err := a.apiOf(r)
	if err != nil {
		return 0, nil, err
	}
	list, err := a.cfg.Store.Stages(r.Context(), api.ID)
	if err != nil {
		return 0, nil, err
	}
	out := items[stageOut]{Items: []stageOut{}}
	for _, s := range list {
		out.Items = append(out.Items, stageView(s))
	}
	return http.StatusOK, out, nil
}

func (a *API) getStage(r *http.Request) (int, any, error) {
	api, err := a.apiOf(r)
	if err != nil {
		return 0, nil, err
	}
	name := r.PathValue("stageName")
	st, err := a.cfg.Store.Stage(r.Context(), api.ID, name)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("Invalid stage identifier specified %s", name)
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, stageView(st), nil
}

func (a *API) deleteStage(r *http.Request) (int, any, error) {
	api, err := a.apiOf(r)
	if err != nil {
		return 0, nil, err
	}
	name := r.PathValue("stageName")
	if err := a.cfg.Store.DeleteStage(r.Context(), api.ID, name); errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound("Invalid stage identifier specified %s", name)
	} else if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
