package statetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tusgate/tusgate/state"
)

// RunQueue runs the state.Queue conformance suite; New's store must
// implement state.Queue. Cross-client subtests need h.Peer.
func RunQueue(t *testing.T, h Harness) {
	if h.New == nil {
		t.Fatal("statetest: Harness.New is required")
	}
	runAll(t, h, queueTests)
}

var queueTests = []suiteTest{
	{name: "EnqueueClaimAck", run: testQueueRoundTrip},
	{name: "ClaimHidesUntilTheHideTimeLapses", run: testQueueHide},
	{name: "RetryDelaysAndCountsAttempts", run: testQueueRetry},
	{name: "OversizedMessageIsRefused", run: testQueueOversized},
	{name: "ConcurrentClaimersNeverShareAMessage", run: testQueueConcurrent},
	{name: "PeerDrainsWhatAnotherClientQueued", needs: []string{needPeer}, run: testQueuePeer},
}

func queueOf(t *testing.T, s state.Store) state.Queue {
	t.Helper()
	q, ok := s.(state.Queue)
	if !ok {
		t.Fatalf("%T does not implement state.Queue", s)
	}
	return q
}

func claimAll(t *testing.T, q state.Queue, hide time.Duration) []state.Message {
	t.Helper()
	msgs, err := q.Claim(opCtx(t), 100, hide)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	return msgs
}

func testQueueRoundTrip(t *testing.T, h Harness) {
	s, _ := h.New(t)
	q := queueOf(t, s)
	if got := claimAll(t, q, time.Minute); len(got) != 0 {
		t.Fatalf("empty queue gave %d messages", len(got))
	}
	for i := 0; i < 3; i++ {
		if err := q.Enqueue(opCtx(t), []byte(fmt.Sprintf("event %d", i))); err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
	}
	got := claimAll(t, q, time.Minute)
	if len(got) != 3 {
		t.Fatalf("Claim gave %d messages, want 3", len(got))
	}
	seen := map[string]bool{}
	for _, m := range got {
		if m.Attempts != 1 || !bytes.HasPrefix(m.Body, []byte("event ")) || m.ID == "" {
			t.Fatalf("claimed %+v", m)
		}
		seen[string(m.Body)] = true
		if err := q.Ack(opCtx(t), m.ID); err != nil {
			t.Fatalf("Ack: %v", err)
		}
	}
	if len(seen) != 3 {
		t.Fatalf("bodies %v, want three distinct", seen)
	}
	if err := q.Ack(opCtx(t), got[0].ID); err != nil {
		t.Fatalf("second Ack: %v", err)
	}
	if got := claimAll(t, q, 0); len(got) != 0 {
		t.Fatalf("acked messages came back: %d", len(got))
	}
}

func testQueueHide(t *testing.T, h Harness) {
	s, _ := h.New(t)
	q := queueOf(t, s)
	if err := q.Enqueue(opCtx(t), []byte("owed")); err != nil {
		t.Fatal(err)
	}
	first := claimAll(t, q, 300*time.Millisecond)
	if len(first) != 1 {
		t.Fatalf("Claim gave %d, want 1", len(first))
	}
	if again := claimAll(t, q, time.Minute); len(again) != 0 {
		t.Fatalf("a hidden message was claimed again: %+v", again)
	}
	// The claimer "died" without Ack: the message comes back.
	var back []state.Message
	deadline := time.Now().Add(5 * time.Second)
	for len(back) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		back = claimAll(t, q, time.Minute)
	}
	if len(back) != 1 || back[0].ID != first[0].ID || back[0].Attempts != 2 || string(back[0].Body) != "owed" {
		t.Fatalf("after the hide time: %+v, want the same message at attempt 2", back)
	}
}

func testQueueRetry(t *testing.T, h Harness) {
	s, _ := h.New(t)
	q := queueOf(t, s)
	if err := q.Enqueue(opCtx(t), []byte("r")); err != nil {
		t.Fatal(err)
	}
	m := claimAll(t, q, time.Minute)
	if len(m) != 1 {
		t.Fatalf("Claim gave %d", len(m))
	}
	if err := q.Retry(opCtx(t), m[0].ID, 200*time.Millisecond); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	if got := claimAll(t, q, time.Minute); len(got) != 0 {
		t.Fatalf("a message retried later was due at once")
	}
	var back []state.Message
	deadline := time.Now().Add(5 * time.Second)
	for len(back) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		back = claimAll(t, q, time.Minute)
	}
	if len(back) != 1 || back[0].Attempts != 2 {
		t.Fatalf("after the retry delay: %+v", back)
	}
}

func testQueueOversized(t *testing.T, h Harness) {
	s, _ := h.New(t)
	q := queueOf(t, s)
	if err := q.Enqueue(opCtx(t), make([]byte, state.MaxMessageSize+1)); err == nil {
		t.Fatal("an oversized message was queued")
	}
	if err := q.Enqueue(opCtx(t), make([]byte, state.MaxMessageSize)); err != nil {
		t.Fatalf("a message of exactly the maximum size: %v", err)
	}
}

func testQueueConcurrent(t *testing.T, h Harness) {
	s, _ := h.New(t)
	q := queueOf(t, s)
	const n = 50
	for i := 0; i < n; i++ {
		if err := q.Enqueue(opCtx(t), []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				msgs, err := q.Claim(ctx, 3, time.Minute)
				cancel()
				if err != nil {
					errs <- err
					return
				}
				if len(msgs) == 0 {
					return
				}
				mu.Lock()
				for _, m := range msgs {
					got[m.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Claim: %v", err)
	}
	if len(got) != n {
		t.Fatalf("claimed %d distinct messages, want %d", len(got), n)
	}
	for id, c := range got {
		if c != 1 {
			t.Fatalf("message %s claimed %d times while hidden", id, c)
		}
	}
}

func testQueuePeer(t *testing.T, h Harness) {
	s, _ := h.New(t)
	peer, _ := h.Peer(t)
	if err := queueOf(t, s).Enqueue(opCtx(t), []byte("from a")); err != nil {
		t.Fatal(err)
	}
	got := claimAll(t, queueOf(t, peer), time.Minute)
	if len(got) != 1 || string(got[0].Body) != "from a" {
		t.Fatalf("peer claimed %+v", got)
	}
	if err := queueOf(t, peer).Ack(opCtx(t), got[0].ID); err != nil && !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("peer Ack: %v", err)
	}
}
