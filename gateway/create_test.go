package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path"
	"sync"
	"testing"
	"time"

	"github.com/tusgate/tusgate/backends/filestore"
	"github.com/tusgate/tusgate/state"
)

// lapsingLocker remembers the last lease it granted per upload, so that a
// test can make it lapse.
type lapsingLocker struct {
	state.Locker
	mu   sync.Mutex
	last map[string]state.Lease
}

func (l *lapsingLocker) Lock(ctx context.Context, id string) (state.Lease, error) {
	lease, err := l.Locker.Lock(ctx, id)
	if err == nil {
		l.mu.Lock()
		l.last[id] = lease
		l.mu.Unlock()
	}
	return lease, err
}

// lapse ends the upload's current lease behind its holder's back and
// grants another: the holder's token is stale, as after a pause past its
// lease while another replica took the upload.
func (l *lapsingLocker) lapse(ctx context.Context, id string) error {
	l.mu.Lock()
	held := l.last[id]
	l.mu.Unlock()
	if err := held.Unlock(ctx); err != nil {
		return err
	}
	other, err := l.Locker.Lock(ctx, id)
	if err != nil {
		return err
	}
	return other.Unlock(ctx)
}

// pausingBackend is the file backend whose Create returns a handle only
// after the upload's lease lapsed: as if the process had been paused (GC,
// SIGSTOP) past its lease between the record and the handle's commit.
type pausingBackend struct {
	*filestore.Store
	locker *lapsingLocker
	t      *testing.T
}

func (b pausingBackend) Create(ctx context.Context, u *state.Upload) (map[string]string, error) {
	if _, err := b.Store.Create(ctx, u); err != nil {
		return nil, err
	}
	if err := b.locker.lapse(ctx, u.ID); err != nil {
		b.t.Errorf("make the creating request's lease lapse: %v", err)
		return nil, err
	}
	return map[string]string{"made": "after a pause"}, nil
}

// A POST whose lease lapsed while the upload was being created (the process
// was paused between the record and the backend's handle) still creates
// the upload: nobody else knows the new ID, so the gateway locks it again
// and commits the handle. Before, the POST failed with 409 and left the
// backend's object unreachable from the record.
func TestCreationSurvivesALapsedLease(t *testing.T) {
	st, fs := localStores(t, time.Second, filestore.Options{})
	locker := &lapsingLocker{Locker: st, last: map[string]state.Lease{}}
	g, err := New(Config{}, st, locker, pausingBackend{Store: fs, locker: locker, t: t})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/files/", nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", "5")
	w := httptest.NewRecorder()
	g.ServeHTTP(w, req)
	if w.Code != http.StatusCreated {
		t.Fatalf("POST: status %d %q, want 201", w.Code, w.Body.String())
	}
	u, err := st.Get(context.Background(), path.Base(w.Header().Get("Location")))
	if err != nil {
		t.Fatal(err)
	}
	if u.Handle["made"] != "after a pause" {
		t.Fatalf("the record's handle is %v; the backend's handle was not committed", u.Handle)
	}
}
