package lambdaapi

import (
	"context"
	"encoding/json"
	"time"
)

// settleLater completes, after SettleDelay, the creation (Pending → Active)
// or update (InProgress → Successful) of a function.
func (a *API) settleLater(name string) {
	a.background(func() {
		t := time.NewTimer(a.settleDelay)
		defer t.Stop()
		select {
		case <-a.ctx.Done():
			return // the next start settles it
		case <-t.C:
		}
		a.settle(name)
	})
}

func (a *API) settle(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, rec, err := a.loadFunction(a.ctx, name, "")
	if err != nil {
		return // deleted meanwhile
	}
	c := &rec.Config
	if c.State != statePending && c.LastUpdateStatus != updateInProgress {
		return
	}
	c.markSettled()
	if err := a.putRecord(a.ctx, name, rec); err != nil && a.ctx.Err() == nil {
		a.cfg.Log.Error("settle function state", "function", name, "err", err)
	}
}

// markSettled marks a configuration Active with its last update done.
func (c *functionConfig) markSettled() {
	c.State, c.StateReason, c.StateReasonCode = stateActive, "", ""
	c.LastUpdateStatus, c.LastUpdateStatusReason, c.LastUpdateStatusReasonCode = updateSuccessful, "", ""
}

// settleAll resumes what a previous process left unfinished: functions
// Pending or InProgress, and provisioned-concurrency configurations still
// IN_PROGRESS.
func (a *API) settleAll(ctx context.Context) {
	fns, err := a.cfg.Store.Functions(ctx, "", 1<<30)
	if err != nil {
		if ctx.Err() == nil {
			a.cfg.Log.Error("resume function states", "err", err)
		}
		return
	}
	for _, f := range fns {
		var rec functionRecord
		if json.Unmarshal(f.Config, &rec) != nil {
			continue
		}
		if rec.Config.State == statePending || rec.Config.LastUpdateStatus == updateInProgress {
			a.settleLater(f.Name)
		}
		pcs, err := a.cfg.Store.Provisioned(ctx, f.Name, "")
		if err != nil {
			continue
		}
		for _, p := range pcs {
			var pc provisionedConfig
			if json.Unmarshal(p.Config, &pc) == nil && pc.Status == provisionedInProgress {
				t := target{name: f.Name, qualifier: p.Qualifier}
				a.background(func() { a.allocate(t) })
			}
		}
	}
}
