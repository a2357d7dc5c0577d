package lambdaapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/store"
)

type publishRequest struct {
	CodeSha256  *string `json:"CodeSha256"`
	Description *string `json:"Description"`
	RevisionID  *string `json:"RevisionId"`
}

func (a *API) publishVersion(r *http.Request) (int, any, error) {
	var in publishRequest
	t, err := a.targetAndBody(r, &in)
	if err != nil {
		return 0, nil, err
	}
	if in.Description != nil {
		if err := checkDescription(*in.Description); err != nil {
			return 0, nil, err
		}
	}
	if err := unqualified(t, "PublishVersion"); err != nil {
		return 0, nil, err
	}
	ctx := r.Context()
	a.mu.Lock()
	defer a.mu.Unlock()
	rec, err := a.loadMutable(ctx, t.name, in.RevisionID)
	if err != nil {
		return 0, nil, err
	}
	if in.CodeSha256 != nil && *in.CodeSha256 != "" && *in.CodeSha256 != rec.Config.CodeSha256 {
		return 0, nil, awsapi.Errorf(http.StatusPreconditionFailed, "PreconditionFailedException",
			"CodeSHA256 (%s) didn't match current function's CodeSHA256 (%s)", *in.CodeSha256, rec.Config.CodeSha256)
	}
	desc := ""
	if in.Description != nil {
		desc = *in.Description
	}
	c, err := a.publishLocked(ctx, t.name, desc)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, c, nil
}

// fingerprint identifies what a version captures: code and configuration,
// without the members that differ between $LATEST and its versions.
func fingerprint(c functionConfig) []byte {
	c.FunctionArn, c.Version, c.RevisionID, c.LastModified, c.Description = "", "", "", "", ""
	c.State, c.StateReason, c.StateReasonCode = "", "", ""
	c.LastUpdateStatus, c.LastUpdateStatusReason, c.LastUpdateStatusReasonCode = "", "", ""
	b, _ := json.Marshal(c)
	return b
}

// publishLocked publishes $LATEST as a new version, or returns the newest
// version when nothing changed since it. The caller holds a.mu.
func (a *API) publishLocked(ctx context.Context, name, description string) (functionConfig, error) {
	_, rec, err := a.loadLatest(ctx, name)
	if err != nil {
		return functionConfig{}, err
	}
	versions, err := a.cfg.Store.Versions(ctx, name)
	if err != nil {
		return functionConfig{}, err
	}
	if len(versions) > 0 {
		var last functionConfig
		if err := json.Unmarshal(versions[len(versions)-1].Config, &last); err != nil {
			return functionConfig{}, err
		}
		if bytes.Equal(fingerprint(last), fingerprint(rec.Config)) {
			return last, nil
		}
	}
	var out functionConfig
	_, err = a.cfg.Store.PublishVersion(ctx, name, func(n int) ([]byte, error) {
		out = rec.Config
		out.Version = strconv.Itoa(n)
		out.FunctionArn = a.functionARN(name, out.Version)
		out.RevisionID = uuid.NewString()
		out.Description = description
		out.markSettled()
		return json.Marshal(out)
	})
	return out, err
}

func (a *API) listVersions(r *http.Request) (int, any, error) {
	t, err := a.target(r)
	if err != nil {
		return 0, nil, err
	}
	start, limit, err := listParams(r)
	if err != nil {
		return 0, nil, err
	}
	ctx := r.Context()
	_, rec, err := a.loadLatest(ctx, t.name)
	if err != nil {
		return 0, nil, err
	}
	vs, err := a.versionItems(ctx, t.name)
	if err != nil {
		return 0, nil, err
	}
	items := append([]functionConfig{listItem(rec.Config)}, vs...)
	return http.StatusOK, listPage("Versions", items, start, limit), nil
}

func (a *API) aliasNotFound(name, alias string) *awsapi.Error {
	return &awsapi.Error{Status: http.StatusNotFound, Code: "ResourceNotFoundException",
		Message: "Alias not found: " + a.functionARN(name, alias)}
}

func checkAliasName(n string) error {
	if err := awsapi.CheckLength(n, "name", 1, 128); err != nil {
		return err
	}
	if !aliasNameConstraintOK(n) {
		return awsapi.Validation(n, "name", aliasNameConstraint)
	}
	return nil
}

func aliasNameConstraintOK(n string) bool {
	return aliasNamePattern.MatchString(n) && !digits.MatchString(n)
}

// checkAliasTarget validates the version an alias points to and its
// routing weights, and checks that the versions exist.
func (a *API) checkAliasTarget(ctx context.Context, name, version string, rc *routingConfig) error {
	if err := awsapi.CheckLength(version, "functionVersion", 1, 1024); err != nil {
		return err
	}
	if err := awsapi.CheckPattern(version, "functionVersion", versionPattern); err != nil {
		return err
	}
	versions := []string{version}
	if rc != nil {
		if len(rc.AdditionalVersionWeights) > 1 {
			return invalid("Number of items in AdditionalVersionWeights cannot be greater than 1")
		}
		for v, w := range rc.AdditionalVersionWeights {
			if err := awsapi.CheckPattern(v, "routingConfig.additionalVersionWeights.key", regexpDigits); err != nil {
				return err
			}
			if w < 0 || w > 1 {
				return awsapi.Validation(w, "routingConfig.additionalVersionWeights.value",
					fmt.Sprintf("Member must have value %s", map[bool]string{true: "greater than or equal to 0.0", false: "less than or equal to 1.0"}[w < 0]))
			}
			if v == version {
				return invalid("Primary and additional version cannot be the same")
			}
			versions = append(versions, v)
		}
		if len(rc.AdditionalVersionWeights) > 0 && version == latest {
			return invalid("$LATEST is not supported for an alias pointing to more than 1 version")
		}
	}
	for _, v := range versions {
		if v == latest {
			continue
		}
		if _, err := a.loadVersion(ctx, name, v); err != nil {
			return err
		}
	}
	return nil
}

func (a *API) createAlias(r *http.Request) (int, any, error) {
	var in aliasRequest
	t, err := a.targetAndBody(r, &in)
	if err != nil {
		return 0, nil, err
	}
	if in.Name == nil {
		return 0, nil, awsapi.Required("name")
	}
	if in.FunctionVersion == nil {
		return 0, nil, awsapi.Required("functionVersion")
	}
	if err := checkAliasName(*in.Name); err != nil {
		return 0, nil, err
	}
	if in.Description != nil {
		if err := checkDescription(*in.Description); err != nil {
			return 0, nil, err
		}
	}
	ctx := r.Context()
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, _, err := a.loadLatest(ctx, t.name); err != nil {
		return 0, nil, err
	}
	if err := a.checkAliasTarget(ctx, t.name, *in.FunctionVersion, in.RoutingConfig); err != nil {
		return 0, nil, err
	}
	ac := aliasConfig{AliasArn: a.functionARN(t.name, *in.Name), Name: *in.Name, FunctionVersion: *in.FunctionVersion,
		RoutingConfig: in.RoutingConfig, RevisionID: uuid.NewString()}
	if in.Description != nil {
		ac.Description = *in.Description
	}
	err = a.putAlias(ctx, t.name, ac, true)
	if errors.As(err, new(*store.ExistsError)) {
		return 0, nil, conflict("Alias already exists: %s", ac.AliasArn)
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, ac, nil
}

// putAlias stores an alias of a function: a new one when create is set,
// else an existing one.
func (a *API) putAlias(ctx context.Context, name string, ac aliasConfig, create bool) error {
	doc, _ := json.Marshal(ac)
	return a.cfg.Store.PutAlias(ctx, store.Alias{Name: name, Alias: ac.Name, Version: ac.FunctionVersion, Config: doc}, create)
}

func (a *API) loadAlias(ctx context.Context, name, alias string) (aliasConfig, error) {
	var ac aliasConfig
	if err := checkAliasName(alias); err != nil {
		return ac, err
	}
	if _, _, err := a.loadLatest(ctx, name); err != nil {
		return ac, err
	}
	al, err := a.cfg.Store.Alias(ctx, name, alias)
	if errors.Is(err, store.ErrNotFound) {
		return ac, a.aliasNotFound(name, alias)
	}
	if err != nil {
		return ac, err
	}
	return ac, json.Unmarshal(al.Config, &ac)
}

func (a *API) getAlias(r *http.Request) (int, any, error) {
	t, err := a.target(r)
	if err != nil {
		return 0, nil, err
	}
	ac, err := a.loadAlias(r.Context(), t.name, r.PathValue("Name"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, ac, nil
}

func (a *API) updateAlias(r *http.Request) (int, any, error) {
	var in aliasRequest
	t, err := a.targetAndBody(r, &in)
	if err != nil {
		return 0, nil, err
	}
	if in.Description != nil {
		if err := checkDescription(*in.Description); err != nil {
			return 0, nil, err
		}
	}
	ctx := r.Context()
	a.mu.Lock()
	defer a.mu.Unlock()
	ac, err := a.loadAlias(ctx, t.name, r.PathValue("Name"))
	if err != nil {
		return 0, nil, err
	}
	if err := checkRevision(in.RevisionID, ac.RevisionID); err != nil {
		return 0, nil, err
	}
	if in.FunctionVersion != nil {
		ac.FunctionVersion = *in.FunctionVersion
	}
	if in.RoutingConfig != nil {
		ac.RoutingConfig = in.RoutingConfig
		if len(in.RoutingConfig.AdditionalVersionWeights) == 0 {
			ac.RoutingConfig = nil
		}
	}
	if in.Description != nil {
		ac.Description = *in.Description
	}
	if err := a.checkAliasTarget(ctx, t.name, ac.FunctionVersion, ac.RoutingConfig); err != nil {
		return 0, nil, err
	}
	ac.RevisionID = uuid.NewString()
	if err := a.putAlias(ctx, t.name, ac, false); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return 0, nil, a.aliasNotFound(t.name, ac.Name)
		}
		return 0, nil, err
	}
	return http.StatusOK, ac, nil
}

func (a *API) deleteAlias(r *http.Request) (int, any, error) {
	t, err := a.target(r)
	if err != nil {
		return 0, nil, err
	}
	name := r.PathValue("Name")
	if err := checkAliasName(name); err != nil {
		return 0, nil, err
	}
	ctx := r.Context()
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, _, err := a.loadLatest(ctx, t.name); err != nil {
		return 0, nil, err
	}
	err = a.cfg.Store.DeleteAlias(ctx, t.name, name)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, a.aliasNotFound(t.name, name)
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (a *API) listAliases(r *http.Request) (int, any, error) {
	t, err := a.target(r)
	if err != nil {
		return 0, nil, err
	}
	start, limit, err := listParams(r)
	if err != nil {
		return 0, nil, err
	}
	ctx := r.Context()
	if _, _, err := a.loadLatest(ctx, t.name); err != nil {
		return 0, nil, err
	}
	als, err := a.cfg.Store.Aliases(ctx, t.name)
	if err != nil {
		return 0, nil, err
	}
	fv := r.URL.Query().Get("FunctionVersion")
	var items []aliasConfig
	for _, al := range als {
		if fv != "" && !strings.EqualFold(al.Version, fv) {
			continue
		}
		var ac aliasConfig
		if err := json.Unmarshal(al.Config, &ac); err != nil {
			return 0, nil, err
		}
		items = append(items, ac)
	}
	return http.StatusOK, listPage("Aliases", items, start, limit), nil
}
