package lambdaapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"tarn.dev/tarn/internal/awsapi"
	"tarn.dev/tarn/internal/store"
)

// maxDeliveries bounds the Event invocations delivered at once.
const maxDeliveries = 16

func (a *API) nudge() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// background runs f in a goroutine that Close waits for; after Close it
// does nothing.
func (a *API) background(f func()) {
	a.bgMu.Lock()
	defer a.bgMu.Unlock()
	if a.closed {
		return
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		f()
	}()
}

// runEvents delivers queued Event invocations until ctx ends: it takes back
// the claims of a previous process (their deliveries never finished), then
// claims due events as delivery slots free up and sleeps until the next one
// is due or an invocation is queued.
func (a *API) runEvents(ctx context.Context) {
	if err := a.cfg.Store.ResetEventClaims(ctx); err != nil && ctx.Err() == nil {
		a.cfg.Log.Error("event queue", "err", err)
	}
	slots := make(chan struct{}, maxDeliveries)
	for {
		free := cap(slots) - len(slots)
		wait := time.Minute
		if free > 0 {
			evs, err := a.cfg.Store.ClaimDueEvents(ctx, a.now(), free)
			if err != nil && ctx.Err() == nil {
				a.cfg.Log.Error("event queue", "err", err)
			}
			for _, ev := range evs {
				slots <- struct{}{}
				a.background(func() {
					defer func() { <-slots; a.nudge() }()
					a.deliver(ctx, ev)
				})
			}
			if len(evs) == free {
				continue // more may be due
			}
			if at, ok, err := a.cfg.Store.NextEventAt(ctx); err == nil && ok {
				wait = max(0, min(wait, at.Sub(a.now())))
			}
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-a.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// deliver runs one queued event. Success removes it; a function error or
// failure schedules a retry after RetryDelays[attempt] until they run out;
// a throttle retries later without counting; an event whose function is
// gone, or older than MaxEventAge, is dropped. Stopping mid-delivery leaves
// the event claimed, so the next start delivers it again.
func (a *API) deliver(ctx context.Context, ev store.QueuedEvent) {
	keep := context.WithoutCancel(ctx)
	drop := func(why string) {
		a.cfg.Log.Warn("event invocation dropped", "function", ev.Name, "qualifier", ev.Qualifier,
			"request_id", ev.RequestID, "attempts", ev.Attempts, "reason", why)
		if err := a.cfg.Store.DeleteEvent(keep, ev.ID); err != nil {
			a.cfg.Log.Error("event queue", "err", err)
		}
	}
	if a.now().Sub(ev.Enqueued) > a.maxAge {
		drop("older than the maximum event age")
		return
	}
	res, err := a.resolve(ctx, target{name: ev.Name, qualifier: ev.Qualifier})
	var ae *awsapi.Error
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		drop("function not found")
		return
	}
	var out InvokeResult
	if err == nil {
		out, err = a.runEvent(ctx, res, ev)
	}
	if ctx.Err() != nil {
		return
	}
	now := a.now()
	var te *ThrottleError
	switch {
	case errors.As(err, &te):
		ev.Throttles++
		d := a.throttle << min(ev.Throttles-1, 16)
		ev.NextAt = now.Add(min(d, 5*time.Minute))
	case err != nil || out.FunctionError != "":
		ev.Attempts++
		if ev.Attempts > len(a.cfg.RetryDelays) {
			reason := "function error"
			if err != nil {
				reason = err.Error()
			}
			drop(reason + " after all retries")
			return
		}
		ev.NextAt = now.Add(a.cfg.RetryDelays[ev.Attempts-1])
	default:
		if err := a.cfg.Store.DeleteEvent(keep, ev.ID); err != nil {
			a.cfg.Log.Error("event queue", "err", err)
		}
		return
	}
	if err := a.cfg.Store.ReleaseEvent(keep, ev); err != nil {
		a.cfg.Log.Error("event queue", "err", err)
	}
}

func (a *API) runEvent(ctx context.Context, res resolved, ev store.QueuedEvent) (InvokeResult, error) {
	if res.config.State != stateActive {
		return InvokeResult{}, &ThrottleError{Reason: "FunctionNotActive"}
	}
	if res.fn.Reserved != nil && *res.fn.Reserved == 0 {
		return InvokeResult{}, &ThrottleError{Reason: ReasonReservedLimit}
	}
	res, err := a.route(ctx, ev.Name, res)
	if err != nil {
		return InvokeResult{}, err
	}
	fv, err := a.functionVersion(ctx, res)
	if err != nil {
		return InvokeResult{}, err
	}
	if a.cfg.Runner == nil {
		return InvokeResult{}, errors.New("this server runs no functions")
	}
	return a.cfg.Runner.Run(ctx, fv, InvokeRequest{RequestID: ev.RequestID, Payload: ev.Payload, Async: true, Attempt: ev.Attempts})
}
