package ui_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tusgate/tusgate/state"
	"github.com/tusgate/tusgate/state/boltstore"
	"github.com/tusgate/tusgate/state/redisstore"
	"github.com/tusgate/tusgate/test/testenv"
	"github.com/tusgate/tusgate/ui"
)

func meta(kv ...string) string {
	var parts []string
	for i := 0; i < len(kv); i += 2 {
		parts = append(parts, kv[i]+" "+base64.StdEncoding.EncodeToString([]byte(kv[i+1])))
	}
	return strings.Join(parts, ",")
}

type store interface {
	state.Store
	state.Locker
	ui.Lister
}

// holder is the instance name the stores under test are opened with.
const holder = "replica-a.pod-7"

func TestListBolt(t *testing.T) {
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "state.db"), boltstore.Options{LeaseTTL: 3 * time.Second, InstanceName: holder})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	testList(t, st)
}

func TestListRedis(t *testing.T) {
	ctx := context.Background()
	prefix := fmt.Sprintf("ui-%d", time.Now().UnixNano())
	st, err := redisstore.Open(ctx, testenv.RedisURL(t), redisstore.Options{Prefix: prefix, LeaseTTL: 3 * time.Second, InstanceName: holder})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	testList(t, st)
}

func testList(t *testing.T, st store) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	long := strings.Repeat("é", 300)
	ups := []*state.Upload{
		{ID: "a0000000000000000000000000000001", Length: 100, Offset: 0, Metadata: meta("filename", "report.pdf", "token", "hunter2"), ExpiresAt: now.Add(time.Hour)},
		{ID: "a0000000000000000000000000000002", Length: -1, Metadata: meta("filename", long), ExpiresAt: now.Add(2 * time.Hour)},
		{ID: "a0000000000000000000000000000003", Length: 10, Offset: 10, Finished: true, Metadata: meta("filename", "done.bin")},
		{ID: "a0000000000000000000000000000004", Length: 10, Metadata: "filename !!notbase64", ExpiresAt: now.Add(3 * time.Hour)},
	}
	for _, u := range ups {
		u.CreatedAt = now
		if err := st.Create(ctx, u); err != nil {
			t.Fatalf("Create %s: %v", u.ID, err)
		}
	}
	lease, err := st.Lock(ctx, ups[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lease.Unlock(ctx) }()
	list := get(t, st, 10)
	var ids []string
	for _, it := range list.Uploads {
		ids = append(ids, it.ID)
	}
	// Latest expiry first; the finished upload is not listed.
	want := []string{ups[3].ID, ups[1].ID, ups[0].ID}
	if strings.Join(ids, ",") != strings.Join(want, ",") || list.Truncated {
		t.Fatalf("listed %v (truncated %v), want %v", ids, list.Truncated, want)
	}
	if f := list.Uploads[2].Filename; f != "report.pdf" {
		t.Errorf("filename %q", f)
	}
	if f := list.Uploads[1].Filename; len(f) > 200 || !strings.HasPrefix(f, "éé") {
		t.Errorf("long filename not shortened to 200 bytes: %d bytes", len(f))
	}
	if it := list.Uploads[2]; !it.Locked || it.Holder != holder {
		t.Errorf("the locked upload is listed with locked %v, holder %q; want true, %q", it.Locked, it.Holder, holder)
	}
	if it := list.Uploads[1]; it.Locked || it.Holder != "" {
		t.Errorf("an unlocked upload is listed with locked %v, holder %q", it.Locked, it.Holder)
	}
	if list.Uploads[1].Length != -1 || list.Uploads[0].Filename != "" {
		t.Errorf("deferred or undecodable upload listed as %+v / %+v", list.Uploads[1], list.Uploads[0])
	}

	// Bounded: with a limit of 2 the list is cut and says so.
	list = get(t, st, 2)
	if len(list.Uploads) != 2 || !list.Truncated || list.Limit != 2 {
		t.Errorf("limit 2: %d uploads, truncated %v, limit %d", len(list.Uploads), list.Truncated, list.Limit)
	}
}

func get(t *testing.T, st store, limit int) ui.List {
	t.Helper()
	h, err := ui.New(ui.Config{Endpoint: "/files/", Limit: limit}, st)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Get(srv.URL + "/ui/api/uploads")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	// Nothing but the file name leaves the metadata.
	if strings.Contains(string(body), "hunter2") || strings.Contains(string(body), "token") {
		t.Fatalf("listing leaks metadata: %s", body)
	}
	var l ui.List
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	for _, p := range []string{"/ui/", "/ui/app.js", "/ui/app.css"} {
		r, err := http.Get(srv.URL + p)
		if err != nil || r.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %v %v", p, err, r.StatusCode)
		}
		r.Body.Close()
	}
	return l
}
