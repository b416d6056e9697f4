package hooks_test

import (
	"io"
	"net/http"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tusgate/tusgate/hooks"
	"github.com/tusgate/tusgate/test/e2e"
)

func idOf(url string) string { return path.Base(url) }

func do(t *testing.T, method, url string, hdr http.Header, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, err := e2e.NewRequest(t.Context(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	res := e2e.Do(t, req)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// tusdUploadFields are the keys of tusd v2's FileInfo in a hook request.
var tusdUploadFields = []string{"ID", "IsFinal", "IsPartial", "MetaData", "Offset", "PartialUploads", "Size", "SizeIsDeferred", "Storage"}

func TestEveryEventFiresOnceWithTusdsPayload(t *testing.T) {
	rc := newReceiver(t, nil)
	p, _ := startWithHooks(t, rc)
	hdr := http.Header{
		"Upload-Metadata": {"filename aGVsbG8udHh0,filetype dGV4dC9wbGFpbg=="},
		"Authorization":   {"Bearer secret"},
		"X-Client":        {"test"},
	}
	url := e2e.Create(t, p.URL, 11, hdr)
	id := idOf(url)
	e2e.Patch(t, url, 0, []byte("hello"))
	e2e.Patch(t, url, 5, []byte(" world"))

	pre := rc.await(t, hooks.PreCreate, "", 1)
	if len(pre) != 1 || pre[0].Event.Upload.Size != 11 || pre[0].Event.Upload.MetaData["filename"] != "hello.txt" ||
		pre[0].Event.HTTPRequest.Method != http.MethodPost {
		t.Fatalf("pre-create events: %+v", pre)
	}
	for _, typ := range []hooks.Type{hooks.PostCreate, hooks.PreFinish, hooks.PostFinish} {
		rc.await(t, typ, id, 1)
	}
	recv := rc.await(t, hooks.PostReceive, id, 2)
	if recv[0].Event.Upload.Offset+recv[1].Event.Upload.Offset != 5+11 {
		t.Fatalf("post-receive offsets %d and %d, want 5 and 11", recv[0].Event.Upload.Offset, recv[1].Event.Upload.Offset)
	}
	fin := rc.events(hooks.PostFinish, id)[0].Event
	if fin.Upload.Offset != 11 || fin.Upload.Size != 11 || fin.Upload.SizeIsDeferred || fin.Upload.MetaData["filetype"] != "text/plain" {
		t.Fatalf("post-finish upload: %+v", fin.Upload)
	}
	h := rc.events(hooks.PostCreate, id)[0].Event.HTTPRequest.Header
	if h.Get("X-Client") != "test" || h.Get("Tus-Resumable") != "1.0.0" || h.Get("Authorization") != "" {
		t.Fatalf("client headers of post-create %v: want X-Client and Tus-Resumable, never Authorization", h)
	}
	if fin.HTTPRequest.Method != http.MethodPatch || !strings.HasSuffix(fin.HTTPRequest.URI, id) || fin.HTTPRequest.RemoteAddr == "" {
		t.Fatalf("post-finish request: %+v", fin.HTTPRequest)
	}

	del := e2e.Create(t, p.URL, 3, nil)
	if res, body := do(t, http.MethodDelete, del, nil, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE → %d %s", res.StatusCode, body)
	}
	rc.await(t, hooks.PreTerminate, idOf(del), 1)
	rc.await(t, hooks.PostTerminate, idOf(del), 1)

	// Each event exactly once (post-receive once per PATCH), and every
	// request has tusd's shape, key for key.
	for typ, want := range map[hooks.Type]int{hooks.PostCreate: 1, hooks.PreFinish: 1, hooks.PostFinish: 1, hooks.PostReceive: 2} {
		if n := len(rc.events(typ, id)); n != want {
			t.Errorf("%s fired %d times, want %d", typ, n, want)
		}
	}
	for _, m := range [][]string{{`event="pre-create"`, `outcome="allowed"`}, {`event="post-finish"`, `outcome="queued"`},
		{`event="post-receive"`, `outcome="queued"`}, {`event="pre-terminate"`, `outcome="allowed"`}} {
		if v := metricValue(t, p, "tusgate_hook_calls_total", m...); v < 1 {
			t.Errorf("tusgate_hook_calls_total%v = %v, want >= 1", m, v)
		}
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, raw := range rc.raw {
		ev, _ := raw["Event"].(map[string]any)
		up, _ := ev["Upload"].(map[string]any)
		var keys []string
		for k := range up {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if !slices.Equal(keys, tusdUploadFields) {
			t.Errorf("%v: Upload keys %v, want tusd's %v", raw["Type"], keys, tusdUploadFields)
		}
		req, _ := ev["HTTPRequest"].(map[string]any)
		for _, k := range []string{"Method", "URI", "RemoteAddr", "Header"} {
			if _, ok := req[k]; !ok {
				t.Errorf("%v: HTTPRequest lacks %s", raw["Type"], k)
			}
		}
	}
}

func TestPreCreateRejectsOrChangesIDAndMetadata(t *testing.T) {
	rc := newReceiver(t, func(req hooks.Request, _ int) (int, hooks.Response) {
		if req.Type != hooks.PreCreate {
			return http.StatusOK, hooks.Response{}
		}
		switch req.Event.Upload.MetaData["filename"] {
		case "reject":
			return http.StatusOK, hooks.Response{RejectUpload: true, HTTPResponse: hooks.HTTPResponse{
				StatusCode: http.StatusForbidden, Body: "quota exceeded", Header: map[string]string{"X-Reason": "quota", "Bad\nName": "x"}}}
		case "rename":
			return http.StatusOK, hooks.Response{ChangeFileInfo: hooks.FileInfoChanges{
				ID: "custom-id-1", MetaData: map[string]string{"filename": "renamed.txt", "owner": "alice"}}}
		case "badid":
			return http.StatusOK, hooks.Response{ChangeFileInfo: hooks.FileInfoChanges{ID: "../escape"}}
		case "status":
			// A status without RejectUpload does not refuse the creation.
			return http.StatusOK, hooks.Response{HTTPResponse: hooks.HTTPResponse{StatusCode: http.StatusForbidden}}
		}
		return http.StatusOK, hooks.Response{}
	})
	p, dir := startWithHooks(t, rc)
	post := func(meta string) (*http.Response, string) {
		return do(t, http.MethodPost, p.URL, http.Header{"Tus-Resumable": {"1.0.0"}, "Upload-Length": {"4"}, "Upload-Metadata": {meta}}, nil)
	}
	res, body := post("filename cmVqZWN0") // "reject"
	if res.StatusCode != http.StatusForbidden || strings.TrimSpace(body) != "quota exceeded" || res.Header.Get("X-Reason") != "quota" || res.Header.Get("Location") != "" {
		t.Fatalf("rejected creation → %d %q X-Reason=%q Location=%q", res.StatusCode, body, res.Header.Get("X-Reason"), res.Header.Get("Location"))
	}
	if n := e2e.StoredBytes(t, filepathJoin(dir, "files")); n != 0 {
		t.Fatalf("a rejected creation stored %d bytes", n)
	}
	if v := metricValue(t, p, "tusgate_hook_calls_total", `event="pre-create"`, `outcome="rejected"`); v != 1 {
		t.Fatalf("rejected pre-create counted %v times, want 1", v)
	}

	allowed := metricValue(t, p, "tusgate_hook_calls_total", `event="pre-create"`, `outcome="allowed"`)
	if res, body := post("filename c3RhdHVz"); res.StatusCode != http.StatusCreated { // "status"
		t.Fatalf("creation answered with a status but no RejectUpload → %d %q, want 201", res.StatusCode, body)
	}
	if v := metricValue(t, p, "tusgate_hook_calls_total", `event="pre-create"`, `outcome="rejected"`); v != 1 {
		t.Fatalf("pre-create counted rejected %v times after an answer that did not reject, want still 1", v)
	}
	if v := metricValue(t, p, "tusgate_hook_calls_total", `event="pre-create"`, `outcome="allowed"`); v != allowed+1 {
		t.Fatalf("pre-create counted allowed %v times, want %v", v, allowed+1)
	}

	res, body = post("filename cmVuYW1l") // "rename"
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("renamed creation → %d %s", res.StatusCode, body)
	}
	loc := res.Header.Get("Location")
	if !strings.HasSuffix(loc, "/files/custom-id-1") {
		t.Fatalf("Location %q does not use the hook's ID", loc)
	}
	head := e2e.Head(t, loc)
	if got := head.Header.Get("Upload-Metadata"); got != "filename cmVuYW1lZC50eHQ=,owner YWxpY2U=" {
		t.Fatalf("HEAD Upload-Metadata = %q, want the hook's metadata", got)
	}
	if got := rc.await(t, hooks.PostCreate, "custom-id-1", 1); got[0].Event.Upload.MetaData["owner"] != "alice" {
		t.Fatalf("post-create carries %+v", got[0].Event.Upload.MetaData)
	}
	// The same ID again is taken.
	if res, _ := post("filename cmVuYW1l"); res.StatusCode != http.StatusConflict {
		t.Fatalf("second creation with the hook's taken ID → %d, want 409", res.StatusCode)
	}
	// An ID that could leave the upload's own path is refused.
	if res, _ := post("filename YmFkaWQ="); res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("hook-chosen ID ../escape → %d, want 503", res.StatusCode)
	}
}

func TestPreFinishFailureLeavesTheUploadCompleteButUnfinished(t *testing.T) {
	rc := newReceiver(t, func(req hooks.Request, attempt int) (int, hooks.Response) {
		if req.Type == hooks.PreFinish && attempt == 1 {
			return http.StatusOK, hooks.Response{HTTPResponse: hooks.HTTPResponse{StatusCode: http.StatusUnprocessableEntity, Body: "virus scan failed"}}
		}
		return http.StatusOK, hooks.Response{}
	})
	p, _ := startWithHooks(t, rc)
	url := e2e.Create(t, p.URL, 4, nil)
	res, body := do(t, http.MethodPatch, url, http.Header{"Tus-Resumable": {"1.0.0"}, "Upload-Offset": {"0"},
		"Content-Type": {"application/offset+octet-stream"}}, strings.NewReader("data"))
	if res.StatusCode != http.StatusUnprocessableEntity || strings.TrimSpace(body) != "virus scan failed" {
		t.Fatalf("PATCH completing the upload → %d %q, want the hook's 422", res.StatusCode, body)
	}
	if n := len(rc.events(hooks.PostFinish, idOf(url))); n != 0 {
		t.Fatalf("post-finish fired %d times for an unfinished upload", n)
	}
	// The next request that finds it complete (HEAD: an offset equal to
	// the length says "done", so it assembles first) asks again, and
	// finishes.
	if off := e2e.Offset(t, url); off != 4 {
		t.Fatalf("offset after refused finish = %d, want 4 (bytes kept)", off)
	}
	rc.await(t, hooks.PostFinish, idOf(url), 1)
	res, body = do(t, http.MethodGet, url, nil, nil)
	if res.StatusCode != http.StatusOK || body != "data" {
		t.Fatalf("GET after the hook relented → %d %q", res.StatusCode, body)
	}
	rc.await(t, hooks.PostFinish, idOf(url), 1)
}

func TestPreTerminateRefusalKeepsTheUpload(t *testing.T) {
	rc := newReceiver(t, func(req hooks.Request, _ int) (int, hooks.Response) {
		if req.Type == hooks.PreTerminate {
			return http.StatusOK, hooks.Response{RejectTermination: true}
		}
		return http.StatusOK, hooks.Response{}
	})
	p, _ := startWithHooks(t, rc)
	url := e2e.Create(t, p.URL, 4, nil)
	e2e.Patch(t, url, 0, []byte("da"))
	res, body := do(t, http.MethodDelete, url, http.Header{"Tus-Resumable": {"1.0.0"}}, nil)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "rejected") {
		t.Fatalf("refused DELETE → %d %q, want 400", res.StatusCode, body)
	}
	if off := e2e.Offset(t, url); off != 2 {
		t.Fatalf("offset after refused termination = %d, want 2", off)
	}
	if n := len(rc.events(hooks.PostTerminate, idOf(url))); n != 0 {
		t.Fatalf("post-terminate fired for a refused termination")
	}
}

func TestPostFinishIsRetriedUntilTheReceiverTakesIt(t *testing.T) {
	rc := newReceiver(t, func(req hooks.Request, attempt int) (int, hooks.Response) {
		if req.Type == hooks.PostFinish && attempt <= 2 {
			return http.StatusInternalServerError, hooks.Response{}
		}
		return http.StatusOK, hooks.Response{}
	})
	p, _ := startWithHooks(t, rc)
	url := e2e.Create(t, p.URL, 4, nil)
	e2e.Patch(t, url, 0, []byte("data"))
	got := rc.await(t, hooks.PostFinish, idOf(url), 1)
	if n := rc.attempts(hooks.PostFinish, idOf(url)); n != 3 || len(got) != 1 {
		t.Fatalf("post-finish: %d attempts and %d accepted deliveries, want 3 and 1", n, len(got))
	}
}
