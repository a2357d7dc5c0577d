// Package lambdalog formats the platform lines Lambda writes into a
// function's log stream around each invocation: START, END, REPORT, the
// timeout notice and the runtime exit notice, byte for byte as Lambda prints
// them in its text log format.
package lambdalog

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Start is "START RequestId: <id> Version: <version>".
func Start(requestID, version string) string {
	return "START RequestId: " + requestID + " Version: " + version
}

// End is "END RequestId: <id>".
func End(requestID string) string {
	return "END RequestId: " + requestID
}

// Report describes one invocation for the REPORT line.
type Report struct {
	RequestID       string
	Duration        time.Duration // delivery of the event to the runtime's answer
	MemorySizeMB    int
	MaxMemoryUsedMB int
	// InitDuration is printed on an environment's first invocation only;
	// zero leaves it out.
	InitDuration time.Duration
	// BillInit adds InitDuration to Billed Duration, as Lambda does where
	// init is billed.
	BillInit bool
	// Status, when set (e.g. "timeout"), is appended as "Status: <status>".
	Status string
}

// BilledDuration is the billed time in whole milliseconds, rounded up.
func (r Report) BilledDuration() int64 {
	d := r.Duration
	if r.BillInit {
		d += r.InitDuration
	}
	return int64(math.Ceil(ms(d)))
}

// String renders the REPORT line: tab-separated fields with a trailing tab,
// e.g. "REPORT RequestId: <id>\tDuration: 15.74 ms\tBilled Duration: 16 ms\t
// Memory Size: 128 MB\tMax Memory Used: 56 MB\tInit Duration: 130.49 ms\t".
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB\t",
		r.RequestID, ms(r.Duration), r.BilledDuration(), r.MemorySizeMB, r.MaxMemoryUsedMB)
	if r.InitDuration > 0 {
		fmt.Fprintf(&b, "Init Duration: %.2f ms\t", ms(r.InitDuration))
	}
	if r.Status != "" {
		fmt.Fprintf(&b, "Status: %s\t", r.Status)
	}
	return b.String()
}

// TimedOut is the line Lambda logs when an invocation times out:
// "2018-07-17T10:17:00.383Z <id> Task timed out after 3.00 seconds".
func TimedOut(at time.Time, requestID string, timeout time.Duration) string {
	return fmt.Sprintf("%s %s Task timed out after %.2f seconds",
		at.UTC().Format("2006-01-02T15:04:05.000Z"), requestID, timeout.Seconds())
}

// RuntimeExited is the two lines Lambda logs when the runtime exits during an
// invocation, e.g. "RequestId: <id> Error: Runtime exited with error: exit
// status 1\nRuntime.ExitError". A nil err means the process exited with
// status 0.
func RuntimeExited(requestID string, err error) string {
	reason := "Runtime exited without providing a reason"
	if err != nil {
		reason = "Runtime exited with error: " + err.Error()
	}
	return "RequestId: " + requestID + " Error: " + reason + "\nRuntime.ExitError"
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
