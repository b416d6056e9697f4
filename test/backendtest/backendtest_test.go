package backendtest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/state"
	"github.com/tusgate/tusgate/test/backendtest"
)

// mutantEnv selects a deliberately broken variant of the in-memory backend
// when the test binary re-runs itself.
const mutantEnv = "BACKENDTEST_MUTANT"

// memBackend is a small correct backend the suite must pass; a mutant breaks
// one rule the suite must catch.
type memBackend struct {
	mutant string
	mu     sync.Mutex
	objs   map[string][]byte
}

func (m *memBackend) Create(_ context.Context, u *state.Upload) (map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objs[u.ID] = nil
	return map[string]string{"key": "mem/" + u.ID}, nil
}

func (m *memBackend) writeAt(id string, off int64, p []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.objs[id]
	if need := off + int64(len(p)); int64(len(b)) < need {
		b = append(b, make([]byte, need-int64(len(b)))...)
	}
	copy(b[off:], p)
	m.objs[id] = b
}

func (m *memBackend) Write(ctx context.Context, u *state.Upload, r io.Reader, commit backends.CommitFunc) error {
	const step = 20000
	buf := make([]byte, 8192)
	off, durable := u.Offset, u.Offset
	if m.mutant == "modifies-record" {
		defer func() { u.Offset = off }()
	}
	if m.mutant == "appends-past-stale-bytes" {
		m.mu.Lock()
		off = max(off, int64(len(m.objs[u.ID])))
		durable = off
		m.mu.Unlock()
	}
	save := func(ctx context.Context) error {
		if off == durable {
			return nil
		}
		claim := off
		if m.mutant == "commits-ahead" {
			claim++
		}
		if err := commit(ctx, backends.Progress{Offset: claim}); err != nil && m.mutant != "ignores-refusal" {
			return fmt.Errorf("mem: commit: %w", err)
		}
		durable = off
		return nil
	}
	for {
		if err := ctx.Err(); err != nil && m.mutant != "ignores-ctx" {
			_ = save(context.WithoutCancel(ctx))
			return err
		}
		n, rerr := r.Read(buf)
		m.writeAt(u.ID, off, buf[:n])
		off += int64(n)
		switch {
		case rerr == io.EOF:
			return save(ctx)
		case rerr != nil:
			if m.mutant != "drops-bytes-on-read-error" {
				if err := save(context.WithoutCancel(ctx)); err != nil {
					return err
				}
			}
			return rerr
		case off-durable >= step:
			if err := save(ctx); err != nil {
				return err
			}
		}
	}
}

func (m *memBackend) Finish(_ context.Context, u *state.Upload, _ []state.Part) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objs[u.ID]
	if !ok || int64(len(b)) < u.Length {
		return fmt.Errorf("mem: finish %s: %w", u.ID, backends.ErrNotFound)
	}
	m.objs[u.ID] = b[:u.Length]
	return nil
}

func (m *memBackend) Concat(_ context.Context, final *state.Upload, partials []*state.Upload) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []byte
	for i := range partials {
		p := partials[i]
		if m.mutant == "concat-reversed" {
			p = partials[len(partials)-1-i]
		}
		out = append(out, m.objs[p.ID][:p.Length]...)
	}
	m.objs[final.ID] = out
	return nil
}

func (m *memBackend) NewRangeReader(_ context.Context, u *state.Upload, off, n int64) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objs[u.ID]
	if !ok {
		if m.mutant == "missing-not-wrapped" {
			return nil, fmt.Errorf("mem: no object %s", u.ID)
		}
		return nil, fmt.Errorf("mem: %s: %w", u.ID, backends.ErrNotFound)
	}
	if off+n > int64(len(b)) {
		return nil, fmt.Errorf("mem: %s: short object: %w", u.ID, backends.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(bytes.Clone(b[off : off+n]))), nil
}

func (m *memBackend) Delete(_ context.Context, u *state.Upload) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objs[u.ID]; !ok && m.mutant == "delete-missing-fails" {
		return fmt.Errorf("mem: delete %s: %w", u.ID, backends.ErrNotFound)
	}
	delete(m.objs, u.ID)
	return nil
}

func (m *memBackend) Ping(context.Context) error { return nil }
func (m *memBackend) Close() error               { return nil }

func memHarness(mutant string) backendtest.Harness {
	return backendtest.Harness{
		New: func(t *testing.T) backends.Backend {
			return &memBackend{mutant: mutant, objs: map[string][]byte{}}
		},
		MinPart: 50000,
	}
}

// TestMemBackendConformance runs the suite on the reference backend (or, in a
// child process, on a mutant).
func TestMemBackendConformance(t *testing.T) {
	backendtest.Run(t, memHarness(os.Getenv(mutantEnv)))
}

// TestSuiteCatchesBrokenBackends re-runs the conformance test against each
// mutant and requires it to fail in the subtest that owns the broken rule.
func TestSuiteCatchesBrokenBackends(t *testing.T) {
	if os.Getenv(mutantEnv) != "" {
		t.Skip("child process: only TestMemBackendConformance runs here")
	}
	mutants := map[string]string{
		"drops-bytes-on-read-error": "InterruptedBody",
		"ignores-ctx":               "ContextCancelDuringWrite",
		"ignores-refusal":           "CommitRefused/FirstCommitOfARequest",
		"commits-ahead":             "OneWrite/1B",
		"modifies-record":           "OneWrite/1B",
		"appends-past-stale-bytes":  "RetryUncommittedRange/SameLengthNewBytes",
		"concat-reversed":           "Concat/SmallPartials",
		"missing-not-wrapped":       "Delete/FinishedUploadIsGone",
		"delete-missing-fails":      "Delete/UploadWithoutData",
	}
	for mutant, subtest := range mutants {
		t.Run(mutant, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestMemBackendConformance$", "-test.v")
			cmd.Env = append(os.Environ(), mutantEnv+"="+mutant)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("suite passed a backend that %s", mutant)
			}
			if want := "--- FAIL: TestMemBackendConformance/" + subtest + " "; !strings.Contains(string(out), want) {
				t.Fatalf("suite did not fail %q for mutant %s; output:\n%s", subtest, mutant, out)
			}
		})
	}
}
