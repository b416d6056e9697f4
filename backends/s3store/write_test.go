package s3store

import (
	"bytes"
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tusgate/tusgate/backends"
)

// gatedReader hands out the first gateAt bytes, then waits for open
// before handing out the rest, and counts what it handed out.
type gatedReader struct {
	data   []byte
	gateAt int
	open   <-chan struct{}
	pos    atomic.Int64
}

func (g *gatedReader) Read(p []byte) (int, error) {
	pos := int(g.pos.Load())
	if pos >= len(g.data) {
		return 0, io.EOF
	}
	if pos >= g.gateAt {
		select {
		case <-g.open:
		case <-time.After(10 * time.Second):
		}
	} else {
		p = p[:min(len(p), g.gateAt-pos)]
	}
	n := copy(p, g.data[pos:])
	g.pos.Add(int64(n))
	return n, nil
}

// TestBodyIsReadWhileACommitIsInFlight holds the first commit (a state
// round trip) open until the body has been read into the third part. The
// loop reading the body must not wait for the commit: it used to, because
// it checked for failures under the mutex the commit holds.
func TestBodyIsReadWhileACommitIsInFlight(t *testing.T) {
	cfg := testConfig(t)
	s := newStore(t, cfg, nil)
	const part = 5 * MiB
	data := randomBytes(50, 3*part)
	m := newMemUpload(t, s, "commit-overlap", int64(len(data)), "")
	commitStarted := make(chan struct{})
	r := &gatedReader{data: data, gateAt: part, open: commitStarted}
	m.fail = func(n int, _ backends.Progress) error {
		if n != 1 {
			return nil
		}
		close(commitStarted)
		deadline := time.Now().Add(10 * time.Second)
		for r.pos.Load() <= 2*part {
			if time.Now().After(deadline) {
				t.Errorf("the body stayed at byte %d while the first commit was in flight", r.pos.Load())
				return nil
			}
			time.Sleep(time.Millisecond)
		}
		return nil
	}
	if err := s.Write(context.Background(), m.get(), r, m.commit); err != nil {
		t.Fatal(err)
	}
	m.finish(t, s)
	if got := getObject(t, s, cfg.Prefix+"commit-overlap"); !bytes.Equal(got, data) {
		t.Fatal("the object differs from the body")
	}
}
