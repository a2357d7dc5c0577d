package lambdalog

import (
	"errors"
	"testing"
	"time"
)

func TestLines(t *testing.T) {
	const id = "8f507cfc-xmpl-4697-b07a-ac58fc914c95"
	tests := []struct {
		name, got, want string
	}{
		{"start", Start(id, "$LATEST"), "START RequestId: " + id + " Version: $LATEST"},
		{"end", End(id), "END RequestId: " + id},
		{"report first invoke", Report{
			RequestID: id, Duration: 15740 * time.Microsecond, MemorySizeMB: 128, MaxMemoryUsedMB: 56,
			InitDuration: 130490 * time.Microsecond,
		}.String(), "REPORT RequestId: " + id + "\tDuration: 15.74 ms\tBilled Duration: 16 ms\tMemory Size: 128 MB\tMax Memory Used: 56 MB\tInit Duration: 130.49 ms\t"},
		{"report warm invoke", Report{
			RequestID: id, Duration: 1230 * time.Microsecond, MemorySizeMB: 1024, MaxMemoryUsedMB: 40,
		}.String(), "REPORT RequestId: " + id + "\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 1024 MB\tMax Memory Used: 40 MB\t"},
		{"report billed init", Report{
			RequestID: id, Duration: 169660 * time.Microsecond, MemorySizeMB: 128, MaxMemoryUsedMB: 30,
			InitDuration: 11100 * time.Microsecond, BillInit: true,
		}.String(), "REPORT RequestId: " + id + "\tDuration: 169.66 ms\tBilled Duration: 181 ms\tMemory Size: 128 MB\tMax Memory Used: 30 MB\tInit Duration: 11.10 ms\t"},
		{"report timeout status", Report{
			RequestID: id, Duration: 3 * time.Second, MemorySizeMB: 128, MaxMemoryUsedMB: 30, Status: "timeout",
		}.String(), "REPORT RequestId: " + id + "\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 30 MB\tStatus: timeout\t"},
		{"timed out", TimedOut(time.Date(2018, 7, 17, 10, 17, 0, 383e6, time.UTC), id, 3*time.Second),
			"2018-07-17T10:17:00.383Z " + id + " Task timed out after 3.00 seconds"},
		{"exit status", RuntimeExited(id, errors.New("exit status 1")),
			"RequestId: " + id + " Error: Runtime exited with error: exit status 1\nRuntime.ExitError"},
		{"exit zero", RuntimeExited(id, nil),
			"RequestId: " + id + " Error: Runtime exited without providing a reason\nRuntime.ExitError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got  %q\nwant %q", tt.got, tt.want)
			}
		})
	}
}

func TestBilledDurationRoundsUp(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want int64
	}{
		{0, 0}, {time.Millisecond, 1}, {1001 * time.Microsecond, 2}, {999 * time.Microsecond, 1},
	}
	for _, tt := range tests {
		if got := (Report{Duration: tt.d}).BilledDuration(); got != tt.want {
			t.Errorf("BilledDuration(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
}
