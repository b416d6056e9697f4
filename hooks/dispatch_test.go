package hooks

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tusgate/tusgate/state/boltstore"
)

func TestDispatcherRetriesUntilDelivered(t *testing.T) {
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "s.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	var mu sync.Mutex
	calls := 0
	delivered := make(chan Request, 1)
	r := ReceiverFunc(func(_ context.Context, req Request) (Response, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls <= 2 {
			return Response{}, errors.New("receiver down")
		}
		delivered <- req
		return Response{}, nil
	})
	d := NewDispatcher(st, r, nil, DispatchOptions{Poll: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go d.Run(ctx)
	if err := d.Post(ctx, Request{Type: PostFinish, Event: Event{Upload: Upload{ID: "u1", Size: 5, Offset: 5}}}); err != nil {
		t.Fatal(err)
	}
	select {
	case req := <-delivered:
		if req.Type != PostFinish || req.Event.Upload.ID != "u1" || req.Event.Upload.Offset != 5 {
			t.Fatalf("delivered %+v", req)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the event was never delivered")
	}
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if calls != 3 {
		t.Fatalf("receiver called %d times, want 3 (two failures, one delivery)", calls)
	}
	msgs, err := st.Claim(context.Background(), 10, 0)
	if err != nil || len(msgs) != 0 {
		t.Fatalf("queue after delivery: %d messages, %v", len(msgs), err)
	}
}

type stopperFunc func(ctx context.Context, id string, resp HTTPResponse) error

func (f stopperFunc) StopUpload(ctx context.Context, id string, resp HTTPResponse) error {
	return f(ctx, id, resp)
}

// StopUpload in a post-receive answer reaches the Stopper with the
// answer's HTTPResponse; a stop that
// fails counts as a failed delivery, so the event is retried. The answer
// to other events is not acted on.
func TestDispatcherStopsUploadsOnPostReceiveAnswers(t *testing.T) {
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "s.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	r := ReceiverFunc(func(_ context.Context, req Request) (Response, error) {
		return Response{StopUpload: true, HTTPResponse: HTTPResponse{Body: "quota"}}, nil
	})
	var mu sync.Mutex
	stops := map[string]int{}
	stopped := make(chan string, 4)
	d := NewDispatcher(st, r, nil, DispatchOptions{Poll: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	d.OnStop(stopperFunc(func(_ context.Context, id string, resp HTTPResponse) error {
		mu.Lock()
		defer mu.Unlock()
		if resp.Body != "quota" {
			t.Errorf("stop of %s carries %+v, want the answer's HTTPResponse", id, resp)
		}
		stops[id]++
		if stops[id] == 1 {
			return errors.New("state store unreachable")
		}
		stopped <- id
		return nil
	}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go d.Run(ctx)
	for _, req := range []Request{
		{Type: PostFinish, Event: Event{Upload: Upload{ID: "finished"}}},
		{Type: PostReceive, Event: Event{Upload: Upload{ID: "running", Offset: 3}}},
	} {
		if err := d.Post(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case id := <-stopped:
		if id != "running" {
			t.Fatalf("stopped %q, want the post-receive upload", id)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the upload was never stopped")
	}
	mu.Lock()
	defer mu.Unlock()
	if stops["running"] != 2 || stops["finished"] != 0 {
		t.Fatalf("stop calls %v, want running twice (one failure, one retry) and never for post-finish", stops)
	}
}
