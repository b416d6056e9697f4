package ops

import (
	"encoding/json"
	"net/http"
	"path"
	"strings"
	"testing"

	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/ui"
)

// TestOperatorPageNamesTheReplicaHoldingTheLock runs two replicas named by
// --instance-name on one Redis, with the operator page on. While a PATCH
// on replica A stalls with the lock held, B's listing names A as the
// holder; once the PATCH is over, nobody holds it.
func TestOperatorPageNamesTheReplicaHoldingTheLock(t *testing.T) {
	ps := replicas(t, 2, nil,
		[]string{"--ui", "--instance-name", "tusgate-a.pod-1"},
		[]string{"--ui", "--instance-name", "tusgate-b.pod-2"})
	a, b := ps[0], ps[1]
	if !strings.Contains(a.Logs(), "instance=tusgate-a.pod-1") {
		t.Errorf("A's start-up line does not name its instance:\n%s", a.Logs())
	}

	u := e2e.Create(t, b.URL, 2*MiB, nil)
	before := e2e.Scrape(t, origin(a)+"/metrics").Get("tusgate_request_body_bytes_total")
	sp := e2e.StartStream(t, at(a, u), 0, data(MiB))
	awaitBodyBytes(t, origin(a)+"/metrics", before+MiB)
	if it := listed(t, b, u); !it.Locked || it.Holder != "tusgate-a.pod-1" {
		t.Fatalf("B lists the upload A writes as locked %v by %q, want locked by tusgate-a.pod-1", it.Locked, it.Holder)
	}
	sp.End()
	if r := sp.Wait(t, wait); r.Err != nil || r.Status != http.StatusNoContent {
		t.Fatalf("A's PATCH: status %d err %v, want 204", r.Status, r.Err)
	}
	if it := listed(t, b, u); it.Locked || it.Holder != "" {
		t.Fatalf("after the PATCH B lists the upload as locked %v by %q, want free", it.Locked, it.Holder)
	}
}

// listed is upload u's entry in p's operator listing.
func listed(t *testing.T, p *e2e.Proc, u string) ui.Item {
	t.Helper()
	res, err := http.Get(origin(p) + "/ui/api/uploads")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var l ui.List
	if err := json.NewDecoder(res.Body).Decode(&l); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /ui/api/uploads: status %d, %v", res.StatusCode, err)
	}
	for _, it := range l.Uploads {
		if it.ID == path.Base(u) {
			return it
		}
	}
	t.Fatalf("upload %s is not in the listing %+v", path.Base(u), l.Uploads)
	return ui.Item{}
}
