package hooks_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tusgate/tusgate/hooks"
	"github.com/tusgate/tusgate/test/e2e"
)

// receiver is a hook receiver: it records every request it is sent,
// raw and decoded, and answers with what answer returns for it.
type receiver struct {
	t   *testing.T
	url string
	mu  sync.Mutex
	got []hooks.Request
	raw []map[string]any
	// from is each accepted request's "from" query parameter, which tells
	// the servers sharing this receiver apart.
	from   []string
	answer func(req hooks.Request, attempt int) (status int, res hooks.Response)
	tries  map[string]int
}

func newReceiver(t *testing.T, answer func(req hooks.Request, attempt int) (int, hooks.Response)) *receiver {
	rc := &receiver{t: t, answer: answer, tries: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(srv.Close)
	rc.url = srv.URL + "/hook"
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req hooks.Request
	var raw map[string]any
	if err := json.Unmarshal(body, &req); err != nil || json.Unmarshal(body, &raw) != nil {
		rc.t.Errorf("receiver: undecodable request %q: %v", body, err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	key := string(req.Type) + "/" + req.Event.Upload.ID
	rc.tries[key]++
	attempt := rc.tries[key]
	rc.mu.Unlock()
	status, res := http.StatusOK, hooks.Response{}
	if rc.answer != nil {
		status, res = rc.answer(req, attempt) // may block: a slow receiver
	}
	rc.mu.Lock()
	if status == http.StatusOK {
		rc.got = append(rc.got, req)
		rc.raw = append(rc.raw, raw)
		rc.from = append(rc.from, r.URL.Query().Get("from"))
	}
	rc.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(res)
}

// events returns the accepted requests of type t for upload id.
func (rc *receiver) events(t hooks.Type, id string) []hooks.Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []hooks.Request
	for _, r := range rc.got {
		if r.Type == t && (id == "" || r.Event.Upload.ID == id) {
			out = append(out, r)
		}
	}
	return out
}

func (rc *receiver) attempts(t hooks.Type, id string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.tries[string(t)+"/"+id]
}

// await waits until n accepted events of type t for id arrived.
func (rc *receiver) await(t *testing.T, typ hooks.Type, id string, n int) []hooks.Request {
	t.Helper()
	e2e.Eventually(t, 60*time.Second, string(typ)+" delivered", func() bool { return len(rc.events(typ, id)) >= n })
	return rc.events(typ, id)
}

func allEvents() string {
	return "pre-create,post-create,post-receive,pre-finish,post-finish,pre-terminate,post-terminate"
}

func startWithHooks(t *testing.T, rc *receiver, extra ...string) (*e2e.Proc, string) {
	dir := t.TempDir()
	args := append([]string{
		"--store", "file://" + filepath.Join(dir, "files"),
		"--state", "bolt://" + filepath.Join(dir, "state.db"),
		"--hooks-http", rc.url, "--hooks-enabled-events", allEvents(),
	}, extra...)
	return e2e.Start(t, args...), dir
}
