package lambdaapi

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// logEventOut is one event of the tarn-logs extension.
type logEventOut struct {
	Time    int64  `json:"Time"` // milliseconds since the epoch
	Stream  string `json:"Stream"`
	Message string `json:"Message"`
}

func eventsOut(evs []LogEvent) []logEventOut {
	out := make([]logEventOut, 0, len(evs))
	for _, e := range evs {
		out = append(out, logEventOut{Time: e.Time.UnixMilli(), Stream: e.Stream, Message: e.Message})
	}
	return out
}

// functionLogs serves Tarn's extension GET
// /2015-03-31/functions/{FunctionName}/tarn-logs: the function's log
// events, merged across streams. Parameters: tail=N (the last N events,
// default 100) or cursor=C (events after a cursor a previous answer gave),
// limit=N (at most N events, default 1000), follow=1 (keep the response
// open and stream new events as they come). Without follow the answer is
// {"Events":[{"Time","Stream","Message"}],"NextCursor"}; with follow it is
// newline-delimited JSON events (application/x-ndjson) until the client
// goes away.
func (a *API) functionLogs(r *http.Request) (int, any, error) {
	t, err := a.parseName(r.PathValue("FunctionName"))
	if err != nil {
		return 0, nil, err
	}
	ctx := r.Context()
	if _, _, err := a.loadLatest(ctx, t.name); err != nil {
		return 0, nil, err
	}
	if a.cfg.Logs == nil {
		return 0, nil, resourceNotFound("This server keeps no function logs.")
	}
	q := r.URL.Query()
	num := func(key string, def, hi int) (int, error) {
		s := q.Get(key)
		if s == "" {
			return def, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > hi {
			return 0, invalid("%s must be a number from 0 to %d", key, hi)
		}
		return n, nil
	}
	tail, err := num("tail", 100, 100000)
	if err != nil {
		return 0, nil, err
	}
	limit, err := num("limit", 1000, 10000)
	if err != nil {
		return 0, nil, err
	}
	var evs []LogEvent
	cursor := q.Get("cursor")
	if q.Has("cursor") {
		evs, cursor, err = a.cfg.Logs.Read(ctx, t.name, cursor, limit)
	} else {
		evs, cursor, err = a.cfg.Logs.Tail(ctx, t.name, tail)
	}
	if err != nil {
		return 0, nil, err
	}
	if q.Get("follow") != "1" {
		return http.StatusOK, map[string]any{"Events": eventsOut(evs), "NextCursor": cursor}, nil
	}
	return 0, &rawResponse{header: http.Header{"Content-Type": {"application/x-ndjson"}}, writeTo: func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusOK)
		enc := json.NewEncoder(w)
		flusher, _ := w.(http.Flusher)
		for {
			for _, e := range eventsOut(evs) {
				if enc.Encode(e) != nil {
					return
				}
			}
			if flusher != nil {
				flusher.Flush()
			}
			if err := a.cfg.Logs.Wait(ctx, t.name, cursor); err != nil || ctx.Err() != nil {
				return
			}
			var next string
			evs, next, err = a.cfg.Logs.Read(ctx, t.name, cursor, limit)
			if err != nil {
				return
			}
			cursor = next
		}
	}}, nil
}
