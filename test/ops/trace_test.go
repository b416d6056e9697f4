package ops

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/tusgate/tusgate/test/e2e"
)

// otlpReceiver is an in-process OTLP/HTTP trace endpoint: it decodes what
// the exporters send and keeps every span with its service name.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []receivedSpan
}

type receivedSpan struct {
	service string
	span    *tracepb.Span
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.URL.Path != "/v1/traces" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				o.spans = append(o.spans, receivedSpan{service, s})
			}
		}
	}
	o.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// inTrace returns the spans of one trace.
func (o *otlpReceiver) inTrace(traceID []byte) []receivedSpan {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []receivedSpan
	for _, s := range o.spans {
		if string(s.span.GetTraceId()) == string(traceID) {
			out = append(out, s)
		}
	}
	return out
}

// TestTraceOfOneUploadThroughTwoReplicas sends one upload with a client
// trace context: created on replica A, written and finished on replica B.
// Both replicas export to an in-process OTLP receiver; the trace must hold
// each replica's server span as a child of the client's span, and under
// them the lock, state and backend spans.
func TestTraceOfOneUploadThroughTwoReplicas(t *testing.T) {
	recv := &otlpReceiver{}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	envFor := func(name string) []string {
		return []string{
			"OTEL_EXPORTER_OTLP_ENDPOINT=" + srv.URL,
			"OTEL_SERVICE_NAME=" + name,
			"OTEL_BSP_SCHEDULE_DELAY=50", // export soon after each span
		}
	}
	ps := replicas(t, 2, [][]string{envFor("tusgate-a"), envFor("tusgate-b")})
	a, b := ps[0], ps[1]

	const traceHex, clientSpanHex = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	traceID, _ := hex.DecodeString(traceHex)
	clientSpan, _ := hex.DecodeString(clientSpanHex)
	tp := http.Header{"Traceparent": {"00-" + traceHex + "-" + clientSpanHex + "-01"}}

	payload := data(64 << 10)
	u := e2e.Create(t, a.URL, int64(len(payload)), tp)
	req, err := e2e.NewRequest(context.Background(), http.MethodPatch, at(b, u), bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Offset", "0")
	req.Header["Traceparent"] = tp["Traceparent"]
	res := e2e.Do(t, req)
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("PATCH on B: status %d, want 204", res.StatusCode)
	}

	want := map[string][]string{
		"tusgate-a": {"POST /files/", "backend.create", "state.create"},
		"tusgate-b": {"PATCH /files/:id", "lock", "state.get", "backend.write", "state.commit", "state.parts", "backend.finish"},
	}
	var got []receivedSpan
	e2e.Eventually(t, wait, "the spans of both replicas at the OTLP receiver", func() bool {
		got = recv.inTrace(traceID)
		for service, names := range want {
			for _, n := range names {
				if find(got, service, n) == nil {
					return false
				}
			}
		}
		return true
	})

	for service, names := range want {
		server := find(got, service, names[0])
		if string(server.GetParentSpanId()) != string(clientSpan) {
			t.Errorf("%s: server span %q has parent %x, want the client's span %s", service, names[0], server.GetParentSpanId(), clientSpanHex)
		}
		if server.GetKind() != tracepb.Span_SPAN_KIND_SERVER {
			t.Errorf("%s: span %q has kind %v, want server", service, names[0], server.GetKind())
		}
		for _, n := range names[1:] {
			if !descends(got, find(got, service, n), server) {
				t.Errorf("%s: span %q is not under the request span %q", service, n, names[0])
			}
		}
	}
	// Commits happen while the body is written: they are children of it.
	if !descends(got, find(got, "tusgate-b", "state.commit"), find(got, "tusgate-b", "backend.write")) {
		t.Error("state.commit is not under backend.write on replica B")
	}
}

func find(spans []receivedSpan, service, name string) *tracepb.Span {
	for _, s := range spans {
		if s.service == service && s.span.GetName() == name {
			return s.span
		}
	}
	return nil
}

// descends reports whether s has anc among its ancestors.
func descends(spans []receivedSpan, s, anc *tracepb.Span) bool {
	byID := map[string]*tracepb.Span{}
	for _, x := range spans {
		byID[string(x.span.GetSpanId())] = x.span
	}
	for cur := s; cur != nil; cur = byID[string(cur.GetParentSpanId())] {
		if string(cur.GetParentSpanId()) == string(anc.GetSpanId()) {
			return true
		}
	}
	return false
}
