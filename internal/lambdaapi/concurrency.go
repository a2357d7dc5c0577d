package lambdaapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/store"
)

// Provisioned-concurrency statuses.
const (
	provisionedInProgress = "IN_PROGRESS"
	provisionedReady      = "READY"
	provisionedFailed     = "FAILED"
)

// functionVersion builds what the runner needs to know about the version
// res names.
func (a *API) functionVersion(ctx context.Context, res resolved) (FunctionVersion, error) {
	c := res.config
	fv := FunctionVersion{
		Name: c.FunctionName, Version: res.version, ARN: a.functionARN(c.FunctionName, res.version),
		Runtime: c.Runtime, Handler: c.Handler, Role: c.Role,
		CodeDir: a.codeDir(c.FunctionName, c.CodeSha256), CodeSha256: c.CodeSha256,
		MemoryMB: c.MemorySize, Timeout: time.Duration(c.Timeout) * time.Second, EphemeralMB: c.EphemeralStorage.Size,
		RevisionID: c.RevisionID, Reserved: res.fn.Reserved, Env: map[string]string{},
	}
	if len(c.Architectures) > 0 {
		fv.Architecture = c.Architectures[0]
	}
	if c.Environment != nil {
		for k, v := range c.Environment.Variables {
			fv.Env[k] = v
		}
	}
	for _, fc := range c.FileSystemConfigs {
		fv.FileSystems = append(fv.FileSystems, FileSystemMount{AccessPointARN: fc.Arn, LocalMountPath: fc.LocalMountPath})
	}
	if res.version == latest {
		return fv, nil
	}
	pcs, err := a.cfg.Store.Provisioned(ctx, c.FunctionName, "")
	if err != nil || len(pcs) == 0 {
		return fv, err
	}
	aliases, err := a.cfg.Store.Aliases(ctx, c.FunctionName)
	if err != nil {
		return fv, err
	}
	target := map[string]string{}
	for _, al := range aliases {
		target[al.Alias] = al.Version
	}
	for _, p := range pcs {
		if p.Qualifier != res.version && target[p.Qualifier] != res.version {
			continue
		}
		var pc provisionedConfig
		if json.Unmarshal(p.Config, &pc) == nil && pc.Status != provisionedFailed {
			fv.Provisioned += pc.RequestedProvisionedConcurrentExecutions
		}
	}
	return fv, nil
}

// configure tells the runner, when there is one, what it needs to know
// about the version res names.
func (a *API) configure(ctx context.Context, res resolved) error {
	fv, err := a.functionVersion(ctx, res)
	if err != nil || a.cfg.Runner == nil {
		return err
	}
	return a.cfg.Runner.Configure(ctx, fv)
}

type concurrencyRequest struct {
	ReservedConcurrentExecutions *int64 `json:"ReservedConcurrentExecutions"`
}

func (a *API) putConcurrency(r *http.Request) (int, any, error) {
	var in concurrencyRequest
	t, err := a.targetAndBody(r, &in)
	if err != nil {
		return 0, nil, err
	}
	if in.ReservedConcurrentExecutions == nil {
		return 0, nil, awsapi.Required("reservedConcurrentExecutions")
	}
	if err := awsapi.CheckRange(*in.ReservedConcurrentExecutions, "reservedConcurrentExecutions", 0, 1<<31-1); err != nil {
		return 0, nil, err
	}
	if err := unqualified(t, "PutFunctionConcurrency"); err != nil {
		return 0, nil, err
	}
	ctx := r.Context()
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, _, err := a.loadLatest(ctx, t.name); err != nil {
		return 0, nil, err
	}
	others, err := a.cfg.Store.ReservedTotal(ctx, t.name)
	if err != nil {
		return 0, nil, err
	}
	n := int(*in.ReservedConcurrentExecutions)
	if a.cfg.ConcurrentExecutions-others-n < MinUnreserved {
		return 0, nil, invalid("Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [%d].", MinUnreserved)
	}
	if err := a.cfg.Store.SetReservedConcurrency(ctx, t.name, &n); err != nil {
		return 0, nil, err
	}
	a.configureLatest(ctx, t.name)
	return http.StatusOK, concurrency{ReservedConcurrentExecutions: &n}, nil
}

func (a *API) getConcurrency(r *http.Request) (int, any, error) {
	t, err := a.target(r)
	if err != nil {
		return 0, nil, err
	}
	f, _, err := a.loadLatest(r.Context(), t.name)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, concurrency{ReservedConcurrentExecutions: f.Reserved}, nil
}

func (a *API) deleteConcurrency(r *http.Request) (int, any, error) {
	t, err := a.target(r)
	if err != nil {
		return 0, nil, err
	}
	ctx := r.Context()
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, _, err := a.loadLatest(ctx, t.name); err != nil {
		return 0, nil, err
	}
	if err := a.cfg.Store.SetReservedConcurrency(ctx, t.name, nil); err != nil {
		return 0, nil, err
	}
	a.configureLatest(ctx, t.name)
	return http.StatusNoContent, nil, nil
}

// configureLatest tells the runner about a change of reserved concurrency.
func (a *API) configureLatest(ctx context.Context, name string) {
	if a.cfg.Runner == nil {
		return
	}
	res, err := a.resolve(ctx, target{name: name})
	if err == nil {
		err = a.configure(ctx, res)
	}
	if err != nil {
		a.cfg.Log.Warn("configure concurrency", "function", name, "err", err)
	}
}

type provisionedRequest struct {
	ProvisionedConcurrentExecutions *int64 `json:"ProvisionedConcurrentExecutions"`
}

var errNoProvisioned = &awsapi.Error{Status: http.StatusNotFound, Code: "ProvisionedConcurrencyConfigNotFoundException",
	Message: "No Provisioned Concurrency Config found for this function"}

// provisionedTarget resolves the qualifier of a provisioned-concurrency
// request, which must name a published version or an alias.
func (a *API) provisionedTarget(r *http.Request) (target, resolved, error) {
	t, err := a.target(r)
	if err != nil {
		return t, resolved{}, err
	}
	if t.qualifier == "" {
		return t, resolved{}, awsapi.Required("qualifier")
	}
	if t.qualifier == latest {
		return t, resolved{}, invalid("Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
	}
	res, err := a.resolve(r.Context(), t)
	if err != nil {
		return t, res, err
	}
	if res.version == latest {
		return t, res, invalid("Provisioned Concurrency Configs cannot be applied to unpublished function versions.")
	}
	return t, res, nil
}

func (a *API) putProvisioned(r *http.Request) (int, any, error) {
	var in provisionedRequest
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.ProvisionedConcurrentExecutions == nil {
		return 0, nil, awsapi.Required("provisionedConcurrentExecutions")
	}
	if err := awsapi.CheckRange(*in.ProvisionedConcurrentExecutions, "provisionedConcurrentExecutions", 1, 1<<31-1); err != nil {
		return 0, nil, err
	}
	ctx := r.Context()
	a.mu.Lock()
	defer a.mu.Unlock()
	t, res, err := a.provisionedTarget(r)
	if err != nil {
		return 0, nil, err
	}
	n := int(*in.ProvisionedConcurrentExecutions)
	existing, err := a.cfg.Store.Provisioned(ctx, t.name, "")
	if err != nil {
		return 0, nil, err
	}
	total := n
	for _, p := range existing {
		if p.Qualifier == t.qualifier {
			continue
		}
		var pc provisionedConfig
		if json.Unmarshal(p.Config, &pc) == nil {
			total += pc.RequestedProvisionedConcurrentExecutions
		}
	}
	if res.fn.Reserved != nil && total > *res.fn.Reserved {
		return 0, nil, invalid("Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function")
	}
	if limit := a.cfg.ConcurrentExecutions - MinUnreserved; total > limit {
		return 0, nil, invalid("Requested Provisioned Concurrency exceeds the account's unreserved concurrency limit of %d.", limit)
	}
	pc := provisionedConfig{RequestedProvisionedConcurrentExecutions: n, Status: provisionedInProgress, LastModified: timestamp(a.now())}
	if err := a.putProvisionedDoc(ctx, t, pc); err != nil {
		return 0, nil, err
	}
	a.background(func() { a.allocate(t) })
	return http.StatusAccepted, pc, nil
}

func (a *API) putProvisionedDoc(ctx context.Context, t target, pc provisionedConfig) error {
	doc, _ := json.Marshal(pc)
	return a.cfg.Store.PutProvisioned(ctx, store.Qualified{Name: t.name, Qualifier: t.qualifier, Config: doc})
}

// allocate asks the runner to provision a configuration and records the
// outcome: READY with every environment available, or FAILED.
func (a *API) allocate(t target) {
	ctx := a.ctx
	res, err := a.resolve(ctx, t)
	if err != nil {
		return // deleted meanwhile
	}
	err = a.configure(ctx, res)
	if ctx.Err() != nil {
		return // stopping: the configuration stays IN_PROGRESS and is retried at start
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	pcs, perr := a.cfg.Store.Provisioned(ctx, t.name, t.qualifier)
	if perr != nil || len(pcs) == 0 {
		return
	}
	var pc provisionedConfig
	if json.Unmarshal(pcs[0].Config, &pc) != nil || pc.Status != provisionedInProgress {
		return
	}
	if err != nil {
		pc.Status, pc.StatusReason = provisionedFailed, err.Error()
	} else {
		pc.Status = provisionedReady
		pc.AvailableProvisionedConcurrentExecutions = pc.RequestedProvisionedConcurrentExecutions
		pc.AllocatedProvisionedConcurrentExecutions = pc.RequestedProvisionedConcurrentExecutions
	}
	pc.LastModified = timestamp(a.now())
	if err := a.putProvisionedDoc(ctx, t, pc); err != nil {
		a.cfg.Log.Warn("record provisioned concurrency", "function", t.name, "qualifier", t.qualifier, "err", err)
	}
}

func (a *API) getProvisioned(r *http.Request) (int, any, error) {
	if r.URL.Query().Get("List") == "ALL" {
		return a.listProvisioned(r)
	}
	t, _, err := a.provisionedTarget(r)
	if err != nil {
		return 0, nil, err
	}
	pcs, err := a.cfg.Store.Provisioned(r.Context(), t.name, t.qualifier)
	if err != nil {
		return 0, nil, err
	}
	if len(pcs) == 0 {
		return 0, nil, errNoProvisioned
	}
	var pc provisionedConfig
	if err := json.Unmarshal(pcs[0].Config, &pc); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, pc, nil
}

func (a *API) listProvisioned(r *http.Request) (int, any, error) {
	t, err := a.parseName(r.PathValue("FunctionName"))
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
	pcs, err := a.cfg.Store.Provisioned(ctx, t.name, "")
	if err != nil {
		return 0, nil, err
	}
	var items []provisionedConfig
	for _, p := range pcs {
		var pc provisionedConfig
		if err := json.Unmarshal(p.Config, &pc); err != nil {
			return 0, nil, err
		}
		pc.FunctionArn = a.functionARN(t.name, p.Qualifier)
		items = append(items, pc)
	}
	return http.StatusOK, listPage("ProvisionedConcurrencyConfigs", items, start, limit), nil
}

func (a *API) deleteProvisioned(r *http.Request) (int, any, error) {
	ctx := r.Context()
	a.mu.Lock()
	defer a.mu.Unlock()
	t, res, err := a.provisionedTarget(r)
	if err != nil {
		return 0, nil, err
	}
	err = a.cfg.Store.DeleteProvisioned(ctx, t.name, t.qualifier)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, errNoProvisioned
	}
	if err != nil {
		return 0, nil, err
	}
	if a.cfg.Runner != nil {
		if err := a.configure(ctx, res); err != nil {
			a.cfg.Log.Warn("configure provisioned concurrency", "function", t.name, "qualifier", t.qualifier, "err", err)
		}
	}
	return http.StatusNoContent, nil, nil
}

func (a *API) accountSettings(r *http.Request) (int, any, error) {
	ctx := r.Context()
	fns, err := a.cfg.Store.Functions(ctx, "", 1<<30)
	if err != nil {
		return 0, nil, err
	}
	var codeSize int64
	reserved := 0
	for _, f := range fns {
		var rec functionRecord
		if json.Unmarshal(f.Config, &rec) == nil {
			codeSize += rec.Config.CodeSize
		}
		if f.Reserved != nil {
			reserved += *f.Reserved
		}
		vs, err := a.cfg.Store.Versions(ctx, f.Name)
		if err != nil {
			return 0, nil, err
		}
		for _, v := range vs {
			var c functionConfig
			if json.Unmarshal(v.Config, &c) == nil {
				codeSize += c.CodeSize
			}
		}
	}
	return http.StatusOK, map[string]any{
		"AccountLimit": map[string]any{
			"TotalCodeSize": int64(TotalCodeSize), "CodeSizeUnzipped": a.cfg.MaxUnzippedBytes, "CodeSizeZipped": a.cfg.MaxZipBytes,
			"ConcurrentExecutions": a.cfg.ConcurrentExecutions, "UnreservedConcurrentExecutions": a.cfg.ConcurrentExecutions - reserved,
		},
		"AccountUsage": map[string]any{"TotalCodeSize": codeSize, "FunctionCount": len(fns)},
	}, nil
}
