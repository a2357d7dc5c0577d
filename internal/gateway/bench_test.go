package gateway

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkOverhead measures what the gateway adds to an invocation: route
// lookup, event encoding, result mapping and response writing, with an
// invoker that answers at once. Compare with BenchmarkInvokerAlone.
func BenchmarkOverhead(b *testing.B) {
	inv := invokerFunc(func(context.Context, string, []byte) ([]byte, string, error) {
		return []byte(`"Hello from EFS!"`), "", nil
	})
	h, _ := newHandler(b, inv, wallAPI("2.0"))
	body := "Hello from EFS!"
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("POST", "/default/MessageWall?a=1", strings.NewReader(body))
			r.Header.Set("Content-Type", "text/plain")
			r.Header.Set("User-Agent", "curl/7.58.0")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != 200 {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}

// BenchmarkInvokerAlone is the baseline: the request objects and the fake
// invocation without the gateway.
func BenchmarkInvokerAlone(b *testing.B) {
	inv := invokerFunc(func(context.Context, string, []byte) ([]byte, string, error) {
		return []byte(`"Hello from EFS!"`), "", nil
	})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("POST", "/default/MessageWall?a=1", strings.NewReader("Hello from EFS!"))
			r.Header.Set("Content-Type", "text/plain")
			w := httptest.NewRecorder()
			res, _, _ := inv.InvokeFunction(r.Context(), testARN, []byte(`{}`))
			w.Write(res)
		}
	})
}
