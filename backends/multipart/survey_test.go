package multipart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/state"
)

// StoredParts makes memDriver a PartLister.
func (d *memDriver) StoredParts(_ context.Context, h Handle) (map[int]StoredPart, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.sessions[h.UploadID]
	if !ok {
		return nil, fmt.Errorf("session %s: %w", h.UploadID, backends.ErrNotFound)
	}
	out := make(map[int]StoredPart, len(s))
	for n, b := range s {
		out[n] = StoredPart{ETag: fmt.Sprintf("etag-%d-%d", n, len(b)), Size: int64(len(b))}
	}
	return out, nil
}

// A store that lost parts after acknowledging them (MinIO after a cut-off
// completion) makes Finish return the rewind to the bytes that survive;
// committing it and sending the rest again gives the whole object.
func TestFinishRewindsPastLostParts(t *testing.T) {
	for _, tc := range []struct {
		name       string
		size       int
		lose       func(d *memDriver, h Handle)
		wantOffset int64
		newSession bool
	}{
		{name: "third part lost", size: 5*testPart + 100, lose: func(d *memDriver, h Handle) { delete(d.sessions[h.UploadID], 3) },
			wantOffset: 2 * testPart},
		{name: "every part lost", size: 5*testPart + 100, lose: func(d *memDriver, h Handle) { clear(d.sessions[h.UploadID]) }},
		{name: "session gone", size: 5*testPart + 100, lose: func(d *memDriver, h Handle) { delete(d.sessions, h.UploadID) },
			newSession: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newMemDriver()
			e := newEngine(t, d)
			want := data(tc.size)
			r := create(t, e, &state.Upload{ID: "u", Length: int64(tc.size)})
			writeAll(t, e, r, want, rand.New(rand.NewPCG(1, 2)))
			h := e.HandleOf(r.get())
			d.mu.Lock()
			tc.lose(d, h)
			d.mu.Unlock()

			err := e.Finish(context.Background(), r.get(), r.manifest())
			var lost *backends.LostError
			if !errors.As(err, &lost) {
				t.Fatalf("Finish after the loss: %v, want a *backends.LostError", err)
			}
			if lost.Rewind.Offset != tc.wantOffset {
				t.Fatalf("rewind to %d, want %d", lost.Rewind.Offset, tc.wantOffset)
			}
			if _, ok := lost.Rewind.Handle[e.keys.UploadID]; ok != tc.newSession {
				t.Fatalf("rewind handle %v: new session %v, want %v", lost.Rewind.Handle, ok, tc.newSession)
			}
			if err := r.commit(context.Background(), lost.Rewind); err != nil {
				t.Fatal(err)
			}
			writeAll(t, e, r, want, rand.New(rand.NewPCG(3, 4)))
			finish(t, e, d, r, want)
		})
	}
}

// The tail is an object of its own: a session that lost every part but
// holds nothing else keeps the tail's bytes, and only needs a new session.
func TestFinishKeepsTheTailWhenOnlyTheSessionIsGone(t *testing.T) {
	d := newMemDriver()
	e := newEngine(t, d)
	want := data(testPart / 2)
	r := create(t, e, &state.Upload{ID: "u", Length: -1})
	if err := e.Write(context.Background(), r.get(), bytes.NewReader(want), r.commit); err != nil {
		t.Fatal(err)
	}
	n := int64(len(want))
	r.u.Length = n // declared, as the gateway does
	h := e.HandleOf(r.get())
	if h.TailSize != n {
		t.Fatalf("tail of %d bytes, want %d", h.TailSize, n)
	}
	d.mu.Lock()
	delete(d.sessions, h.UploadID)
	d.mu.Unlock()

	err := e.Finish(context.Background(), r.get(), r.manifest())
	var lost *backends.LostError
	if !errors.As(err, &lost) {
		t.Fatalf("Finish without a session: %v, want a *backends.LostError", err)
	}
	if _, drops := lost.Rewind.Handle[e.keys.TailKey]; lost.Rewind.Offset != n || drops || len(lost.Rewind.Handle) != 1 {
		t.Fatalf("rewind %+v, want offset %d and only a new session", lost.Rewind, n)
	}
	if err := r.commit(context.Background(), lost.Rewind); err != nil {
		t.Fatal(err)
	}
	finish(t, e, d, r, want)
}

// refusingDriver fails every completion although every part is stored.
type refusingDriver struct {
	*memDriver
	err error
}

func (d refusingDriver) Complete(context.Context, Handle, *state.Upload, []state.Part) error {
	return d.err
}

// A refusal with every part and the tail in place is reported as it is:
// nothing is rewound for a failure that is not a loss.
func TestFinishReportsARefusalWithNothingLost(t *testing.T) {
	for _, size := range []int{3 * testPart, 3*testPart + 10} {
		d := refusingDriver{memDriver: newMemDriver(), err: errors.New("refused for another reason")}
		e := newEngine(t, d)
		r := create(t, e, &state.Upload{ID: "u", Length: -1})
		if err := e.Write(context.Background(), r.get(), bytes.NewReader(data(size)), r.commit); err != nil {
			t.Fatal(err)
		}
		r.u.Length = int64(size)
		err := e.Finish(context.Background(), r.get(), r.manifest())
		var lost *backends.LostError
		if !errors.Is(err, d.err) || errors.As(err, &lost) {
			t.Fatalf("%d bytes: Finish = %v, want the refusal and no rewind", size, err)
		}
	}
}

// A lost tail rewinds to the end of the last part.
func TestFinishRewindsPastALostTail(t *testing.T) {
	d := newMemDriver()
	e := newEngine(t, d)
	want := data(2*testPart + 10)
	r := create(t, e, &state.Upload{ID: "u", Length: -1})
	if err := e.Write(context.Background(), r.get(), bytes.NewReader(want), r.commit); err != nil {
		t.Fatal(err)
	}
	r.u.Length = int64(len(want))
	h := e.HandleOf(r.get())
	d.mu.Lock()
	delete(d.objects, h.TailKey)
	d.mu.Unlock()
	err := e.Finish(context.Background(), r.get(), r.manifest())
	var lost *backends.LostError
	if !errors.As(err, &lost) || lost.Rewind.Offset != 2*testPart || lost.Rewind.Handle[e.keys.TailKey] != "" {
		t.Fatalf("Finish without the tail: %v, want a rewind to %d that drops the tail", err, 2*testPart)
	}
	if err := r.commit(context.Background(), lost.Rewind); err != nil {
		t.Fatal(err)
	}
	if err := e.Write(context.Background(), r.get(), bytes.NewReader(want[2*testPart:]), r.commit); err != nil {
		t.Fatal(err)
	}
	finish(t, e, d, r, want)
}
