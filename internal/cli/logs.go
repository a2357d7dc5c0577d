package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

func logsCommand() *command {
	return &command{name: "logs", usage: "tarn logs NAME [--follow] [--tail N]", summary: "print a function's log (START/END/REPORT included)", run: logsRun}
}

// logEvent is one event of the Lambda API's tarn-logs extension.
type logEvent struct {
	Time    int64  `json:"Time"`
	Stream  string `json:"Stream"`
	Message string `json:"Message"`
}

func logsRun(ctx context.Context, e *env, args []string) error {
	fs, cf := newFlags("tarn logs")
	follow := fs.Bool("follow", false, "keep printing new lines as they come")
	fs.BoolVar(follow, "f", false, "short for --follow")
	tail := fs.Int("tail", 100, "start with the last N lines")
	streams := fs.Bool("streams", false, "prefix each line with its time and log stream")
	name, err := parseOne(fs, args, "function name")
	if err != nil {
		return err
	}
	q := url.Values{"tail": {strconv.Itoa(*tail)}}
	if *follow {
		q.Set("follow", "1")
	}
	resp, err := cf.signedGet(ctx, "lambda", "/2015-03-31/functions/"+url.PathEscape(name)+"/tarn-logs?"+q.Encode())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	print := func(ev logEvent) {
		msg := ev.Message
		if len(msg) == 0 || msg[len(msg)-1] != '\n' {
			msg += "\n"
		}
		if *streams {
			fmt.Fprintf(e.stdout, "%s %s %s", time.UnixMilli(ev.Time).UTC().Format(time.RFC3339Nano), ev.Stream, msg)
			return
		}
		io.WriteString(e.stdout, msg)
	}
	if !*follow {
		var out struct{ Events []logEvent }
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			return fmt.Errorf("read logs: %w", err)
		}
		for _, ev := range out.Events {
			print(ev)
		}
		return nil
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var ev logEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return fmt.Errorf("read logs: %w", err)
		}
		print(ev)
	}
	if ctx.Err() != nil {
		return nil // interrupted: the normal end of --follow
	}
	return sc.Err()
}

// signedGet sends a SigV4-signed GET for service to the server and returns
// the response of a success; errors are decoded as AWS errors.
func (c *clientFlags) signedGet(ctx context.Context, service, path string) (*http.Response, error) {
	resp, err := c.sendSigned(ctx, service, http.MethodGet, path, nil, "")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var e struct {
			Message  string `json:"message"`
			MessageU string `json:"Message"`
		}
		json.Unmarshal(data, &e)
		return nil, &tarnAPIError{Status: resp.StatusCode, Code: resp.Header.Get("x-amzn-ErrorType"), Message: firstNonEmpty(e.Message, e.MessageU)}
	}
	return resp, nil
}
