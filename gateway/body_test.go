package gateway

import (
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// deadlineRecorder is a ResponseWriter whose read deadlines (set through an
// http.ResponseController) are recorded.
type deadlineRecorder struct {
	*httptest.ResponseRecorder
	mu        sync.Mutex
	deadlines []time.Time
}

func (d *deadlineRecorder) SetReadDeadline(t time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.deadlines = append(d.deadlines, t)
	return nil
}

func (d *deadlineRecorder) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.deadlines)
}

// A lease event can fire after the body is done (context.AfterFunc may
// already be running when it is stopped): by then the server may have
// recycled the response, so interrupt must not touch it, nor change why
// the body ended.
func TestInterruptAfterDoneLeavesTheResponseAlone(t *testing.T) {
	w := &deadlineRecorder{ResponseRecorder: httptest.NewRecorder()}
	b := newBodyReader(strings.NewReader("abc"), w, 0, minRate{}, func() time.Time { return time.Now().Add(time.Hour) })
	b.interrupt(errTakenOver)
	if w.count() != 1 {
		t.Fatalf("interrupt while reading set %d read deadlines, want 1", w.count())
	}
	if _, err := b.Read(make([]byte, 3)); !errors.Is(err, errTakenOver) {
		t.Fatalf("Read after interrupt: %v, want errTakenOver", err)
	}
	b.done()
	after := w.count()
	b.interrupt(errShuttingDown)
	if w.count() != after {
		t.Fatalf("interrupt after done set a read deadline on the response")
	}
	if err := b.interrupted(); !errors.Is(err, errTakenOver) {
		t.Fatalf("reason after a late interrupt: %v, want errTakenOver", err)
	}
	if w.Header().Get("Connection") != "close" {
		t.Fatalf("an interrupted body must close the connection, got Connection %q", w.Header().Get("Connection"))
	}
}
