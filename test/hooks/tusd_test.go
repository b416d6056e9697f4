package hooks_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tusgate/tusgate/hooks"
	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/test/testenv"
)

// One receiver takes the hooks of tusd v2.9.1 and of tusgate for the same
// requests (creation, two PATCHes that finish the upload, a termination,
// creation with data, a deferred length, a concatenation of two partials),
// and the payloads must agree field by field. Values that differ by nature
// are compared by shape: upload IDs (and the paths and URIs naming them),
// the client's port, the servers' Host. The differences tusgate chose are
// listed in applyKnownDifferences and asserted, so they stay deliberate.
func TestPayloadsMatchTusdV291FieldByField(t *testing.T) {
	dir := t.TempDir()
	compareWithTusd(t, true, nil, e2e.Options{}, "--store", "file://"+filepath.Join(dir, "files"), "--state", "bolt://"+filepath.Join(dir, "state.db"))
}

// The same on S3 (MinIO): tusd's s3store and tusgate's S3 store name the
// object alike (Type, Bucket, Key), and tusd's IDs (hex + "+" + the
// multipart upload's ID) are compared by shape too.
func TestPayloadsMatchTusdV291OnS3(t *testing.T) {
	endpoint, bucket := testenv.S3Endpoint(t)
	store, opts := s3Store(t)
	dir := t.TempDir()
	compareWithTusd(t, true, []string{"-s3-bucket", bucket, "-s3-endpoint", endpoint, "-s3-object-prefix", "tusd-" + strings.ToLower(rand.Text()[:8]) + "/"},
		opts, "--store", store, "--state", "bolt://"+filepath.Join(dir, "state.db"))
}

// The same on Azure (Azurite): tusd's azurestore and tusgate's Azure store
// name the blob alike (Type, Container, Key). tusd's azurestore cannot
// concatenate, so the uploads are the others.
func TestPayloadsMatchTusdV291OnAzure(t *testing.T) {
	cs, container := testenv.Azurite(t)
	fields := map[string]string{}
	for _, kv := range strings.Split(cs, ";") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			fields[k] = v
		}
	}
	// tusd reads its account from the environment (tusgate is given the
	// connection string).
	t.Setenv("AZURE_STORAGE_ACCOUNT", fields["AccountName"])
	t.Setenv("AZURE_STORAGE_KEY", fields["AccountKey"])
	dir := t.TempDir()
	prefix := "hooks-" + strings.ToLower(rand.Text()[:8])
	compareWithTusd(t, false, []string{"-azure-storage", container, "-azure-endpoint", fields["BlobEndpoint"], "-azure-object-prefix", "tusd-" + prefix + "/"},
		e2e.Options{Env: []string{"AZURE_STORAGE_CONNECTION_STRING=" + cs}},
		"--store", fmt.Sprintf("azblob://%s/%s/", container, prefix), "--state", "bolt://"+filepath.Join(dir, "state.db"))
}

// compareWithTusd runs the same uploads on tusd (with tusdArgs) and tusgate
// (with tusgateArgs) and compares their hook payloads; concat adds a
// concatenation of two partials.
func compareWithTusd(t *testing.T, concat bool, tusdArgs []string, opts e2e.Options, tusgateArgs ...string) {
	rc := newReceiver(t, nil)
	tusdBase := testenv.StartTusd(t, append([]string{"-hooks-http", rc.url + "?from=tusd", "-hooks-enabled-events", allEvents()}, tusdArgs...)...)
	p := e2e.StartWith(t, opts, append(tusgateArgs, "--hooks-http", rc.url+"?from=tusgate", "--hooks-enabled-events", allEvents())...)

	for _, base := range []string{tusdBase, p.URL} {
		url := e2e.Create(t, base, 11, http.Header{
			"Upload-Metadata": {"filename aGVsbG8udHh0,filetype dGV4dC9wbGFpbg=="},
			"X-Client":        {"side-by-side"},
		})
		e2e.Patch(t, url, 0, []byte("hello"))
		e2e.Patch(t, url, 5, []byte(" world"))
		del := e2e.Create(t, base, 3, nil)
		if res, body := do(t, http.MethodDelete, del, nil, nil); res.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE %s → %d %s", del, res.StatusCode, body)
		}
		// Creation with data, and a deferred length declared by the PATCH.
		if res, body := do(t, http.MethodPost, base, http.Header{"Tus-Resumable": {"1.0.0"}, "Upload-Length": {"4"},
			"Content-Type": {"application/offset+octet-stream"}}, strings.NewReader("data")); res.StatusCode != http.StatusCreated {
			t.Fatalf("POST with data %s → %d %s", base, res.StatusCode, body)
		}
		res, body := do(t, http.MethodPost, base, http.Header{"Tus-Resumable": {"1.0.0"}, "Upload-Defer-Length": {"1"}}, nil)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("POST deferred %s → %d %s", base, res.StatusCode, body)
		}
		if res, body := do(t, http.MethodPatch, res.Header.Get("Location"), http.Header{"Tus-Resumable": {"1.0.0"}, "Upload-Offset": {"0"},
			"Upload-Length": {"3"}, "Content-Type": {"application/offset+octet-stream"}}, strings.NewReader("abc")); res.StatusCode != http.StatusNoContent {
			t.Fatalf("PATCH declaring the length %s → %d %s", base, res.StatusCode, body)
		}
		if !concat {
			continue
		}
		// Concatenation: two finished partials, then the final.
		var partials []string
		for _, part := range []string{"ab", "cd"} {
			p := e2e.Create(t, base, 2, http.Header{"Upload-Concat": {"partial"}})
			e2e.Patch(t, p, 0, []byte(part))
			partials = append(partials, "/files/"+idOf(p))
		}
		if res, body := do(t, http.MethodPost, base, http.Header{"Tus-Resumable": {"1.0.0"},
			"Upload-Concat": {"final;" + strings.Join(partials, " ")}}, nil); res.StatusCode != http.StatusCreated {
			t.Fatalf("final POST %s → %d %s", base, res.StatusCode, body)
		}
	}
	want := map[hooks.Type]int{hooks.PreCreate: 4, hooks.PostCreate: 4, hooks.PostReceive: 4, hooks.PreFinish: 3,
		hooks.PostFinish: 3, hooks.PreTerminate: 1, hooks.PostTerminate: 1}
	if concat {
		for typ, n := range map[hooks.Type]int{hooks.PreCreate: 3, hooks.PostCreate: 3, hooks.PostReceive: 2, hooks.PreFinish: 3, hooks.PostFinish: 3} {
			want[typ] += n
		}
	}
	for typ, n := range want {
		rc.await(t, typ, "", 2*n)
	}

	got := map[string]map[hooks.Type][]map[string]any{}
	rc.mu.Lock()
	for i, raw := range rc.raw {
		typ := hooks.Type(fmt.Sprint(raw["Type"]))
		if got[rc.from[i]] == nil {
			got[rc.from[i]] = map[hooks.Type][]map[string]any{}
		}
		got[rc.from[i]][typ] = append(got[rc.from[i]][typ], raw)
	}
	rc.mu.Unlock()
	for typ, n := range want {
		td, tg := got["tusd"][typ], got["tusgate"][typ]
		if len(td) != n || len(tg) != n {
			t.Errorf("%s: tusd sent %d, tusgate %d, want %d each", typ, len(td), len(tg), n)
			continue
		}
		// Order-insensitive: both sides in the order of their upload's size
		// and offset, so the same request's events pair up.
		sortEvents(td)
		sortEvents(tg)
		for i := range td {
			a, b := canonical(t, td[i]), canonical(t, tg[i])
			applyKnownDifferences(t, typ, a, b)
			for _, d := range diff("", a, b) {
				t.Errorf("%s #%d: %s", typ, i, d)
			}
		}
	}
	if t.Failed() {
		for _, from := range []string{"tusd", "tusgate"} {
			b, _ := json.MarshalIndent(got[from], "", "  ")
			t.Logf("%s sent:\n%s", from, b)
		}
	}
}

func upload(ev map[string]any) map[string]any {
	e, _ := ev["Event"].(map[string]any)
	u, _ := e["Upload"].(map[string]any)
	return u
}

func sortEvents(evs []map[string]any) {
	key := func(ev map[string]any) string {
		u := upload(ev)
		return fmt.Sprintf("%020v/%020v/%v/%v/%v", u["Size"], u["Offset"], u["SizeIsDeferred"], u["IsPartial"], u["IsFinal"])
	}
	sort.SliceStable(evs, func(i, j int) bool { return key(evs[i]) < key(evs[j]) })
}

var (
	loopbackAddr = regexp.MustCompile(`^127\.0\.0\.1:[0-9]+$`)
	// Both servers make IDs of 128 random bits in hex; tusd's s3store
	// appends "+" and the multipart upload's ID.
	uploadID = regexp.MustCompile(`[0-9a-f]{32}(\+[A-Za-z0-9._~=-]+)?`)
)

// canonical replaces the values that differ between two servers by nature
// with their shape: upload IDs wherever they appear (the upload's own,
// partials, URIs, paths, Upload-Concat), the client's port and the
// server's Host.
func canonical(t *testing.T, ev map[string]any) map[string]any {
	t.Helper()
	if id, _ := upload(ev)["ID"].(string); id != "" && !uploadID.MatchString(id) {
		t.Errorf("%v: upload ID %q is not an ID", ev["Type"], id)
	}
	b, _ := json.Marshal(ev)
	var c map[string]any
	_ = json.Unmarshal(uploadID.ReplaceAll(b, []byte("<ID>")), &c)
	u := upload(c)
	req, _ := c["Event"].(map[string]any)["HTTPRequest"].(map[string]any)
	if addr, _ := req["RemoteAddr"].(string); loopbackAddr.MatchString(addr) {
		req["RemoteAddr"] = "<127.0.0.1:port>"
	}
	if h, ok := req["Header"].(map[string]any); ok {
		if host, _ := h["Host"].([]any); len(host) == 1 && loopbackAddr.MatchString(fmt.Sprint(host[0])) {
			h["Host"] = []any{"<127.0.0.1:port>"}
		}
	}
	if st, ok := u["Storage"].(map[string]any); ok {
		if path, _ := st["Path"].(string); filepath.IsAbs(path) && strings.Contains(path, "<ID>") {
			st["Path"] = "<absolute path naming ID>"
		}
		// Each server writes under its own object prefix.
		if key, _ := st["Key"].(string); strings.HasSuffix(key, "/<ID>") {
			st["Key"] = "<prefix>/<ID>"
		}
	}
	return c
}

// applyKnownDifferences checks and removes what tusgate does differently on
// purpose (docs/hooks.md, "Differences from tusd"):
//   - pre-create: tusd knows no ID yet and sends ""; tusgate sends the ID
//     the upload will have, so a receiver can key its records by it.
//   - Storage of filestore: tusd also names its .info file (InfoPath);
//     tusgate keeps that information in the state store.
func applyKnownDifferences(t *testing.T, typ hooks.Type, tusd, tusgate map[string]any) {
	t.Helper()
	a, b := upload(tusd), upload(tusgate)
	if typ == hooks.PreCreate {
		if a["ID"] != "" || b["ID"] != "<ID>" {
			t.Errorf("pre-create IDs: tusd %q, tusgate %q; want \"\" and an ID", a["ID"], b["ID"])
		}
		a["ID"], b["ID"] = "", ""
	}
	if st, ok := a["Storage"].(map[string]any); ok && st["Type"] == "filestore" {
		if _, has := st["InfoPath"]; !has {
			t.Errorf("%s: tusd's filestore Storage has no InfoPath any more: %v", typ, st)
		}
		delete(st, "InfoPath")
	}
}

// diff lists every path where a and b differ, keys missing on either side
// included.
func diff(path string, a, b any) []string {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		var names []string
		for k := range keys {
			names = append(names, k)
		}
		sort.Strings(names)
		var out []string
		for _, k := range names {
			av, ina := am[k]
			bv, inb := bm[k]
			switch {
			case !ina:
				out = append(out, fmt.Sprintf("%s.%s: only tusgate sends it (%v)", path, k, bv))
			case !inb:
				out = append(out, fmt.Sprintf("%s.%s: only tusd sends it (%v)", path, k, av))
			default:
				out = append(out, diff(path+"."+k, av, bv)...)
			}
		}
		return out
	}
	if !reflect.DeepEqual(a, b) {
		return []string{fmt.Sprintf("%s: tusd %v, tusgate %v", path, a, b)}
	}
	return nil
}

// A post-receive answer's StopUpload ends a running PATCH with the answer's
// status, body and headers on tusd and on tusgate alike. Afterwards they
// differ as documented: tusd terminates the upload (404), tusgate keeps the
// bytes it stored and gives later PATCHes the same answer.
func TestStopUploadAnswersLikeTusd(t *testing.T) {
	stop := hooks.HTTPResponse{StatusCode: http.StatusRequestEntityTooLarge, Body: "quota exceeded", Header: map[string]string{"X-Reason": "quota"}}
	rc := newReceiver(t, func(req hooks.Request, _ int) (int, hooks.Response) {
		if req.Type != hooks.PostReceive {
			return http.StatusOK, hooks.Response{}
		}
		return http.StatusOK, hooks.Response{StopUpload: true, HTTPResponse: stop}
	})
	tusdBase := testenv.StartTusd(t, "-hooks-http", rc.url+"?from=tusd", "-hooks-enabled-events", "post-receive")
	dir := t.TempDir()
	p := e2e.Start(t, "--store", "file://"+filepath.Join(dir, "files"), "--state", "bolt://"+filepath.Join(dir, "state.db"),
		"--hooks-http", rc.url+"?from=tusgate", "--hooks-enabled-events", "post-receive")
	data := testenv.Source(2*mib, 3)
	after := map[string]int{}
	for name, base := range map[string]string{"tusd": tusdBase, "tusgate": p.URL} {
		url := e2e.Create(t, base, int64(len(data)), nil)
		s := e2e.StartStream(t, url, 0, data[:mib/2])
		// Both report progress once a second of the body has passed: tusd
		// on a timer (it may have answered already, so the send may fail),
		// tusgate at the next commit, which the next bytes make.
		time.Sleep(1500 * time.Millisecond)
		_ = s.Send(data[mib/2 : mib])
		res := s.Wait(t, 2*time.Minute)
		if res.Err != nil || res.Status != stop.StatusCode || strings.TrimSpace(res.Body) != stop.Body || res.Header.Get("X-Reason") != "quota" {
			t.Errorf("%s: stopped PATCH → %d %q X-Reason=%q (%v), want the hook's 413 \"quota exceeded\" X-Reason=quota",
				name, res.Status, res.Body, res.Header.Get("X-Reason"), res.Err)
		}
		after[name] = e2e.Head(t, url).StatusCode
		if name == "tusgate" {
			off := e2e.Offset(t, url)
			if off < mib/2 {
				t.Errorf("tusgate kept %d bytes of the stopped upload, want what arrived (at least %d)", off, mib/2)
			}
			res, body := do(t, http.MethodPatch, url, http.Header{"Tus-Resumable": {"1.0.0"}, "Content-Type": {"application/offset+octet-stream"},
				"Upload-Offset": {strconv.FormatInt(off, 10)}}, strings.NewReader("more"))
			if res.StatusCode != stop.StatusCode || strings.TrimSpace(body) != stop.Body {
				t.Errorf("tusgate: PATCH after the stop → %d %q, want the hook's answer again", res.StatusCode, body)
			}
		}
	}
	if after["tusd"] != http.StatusNotFound || after["tusgate"] != http.StatusOK {
		t.Errorf("HEAD after the stop: tusd %d, tusgate %d; want 404 (tusd terminates) and 200 (tusgate keeps)", after["tusd"], after["tusgate"])
	}
}
