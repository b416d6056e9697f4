package s3e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/tusgate/tusgate/client"
	"github.com/tusgate/tusgate/test/e2e"
)

// MinIO can lose the parts of a multipart upload whose completion is cut
// off (the replica running it killed, MinIO restarted): the session then
// lists no parts and every later completion fails with InvalidPart. The
// gateway must not leave such an upload stuck for good: it finds out which
// parts the store still holds, moves the offset back to them, and the
// client sends the rest again. The loss is made here by replacing a
// committed part behind the gateway's back, so its ETag no longer matches
// the manifest, as a lost part does not.
func TestLostPartIsSentAgainByTheClient(t *testing.T) {
	t.Parallel()
	const size = 16 * MiB // parts 1-3 of 5 MiB and a last one of 1 MiB
	e := newEnv(t)
	p := e.start(t)
	data := sourceData(size, 41)

	url := e2e.Create(t, p.URL, size, nil)
	if got := e2e.Patch(t, url, 0, data[:12*MiB]); got != 12*MiB {
		t.Fatalf("first PATCH: Upload-Offset %d, want %d", got, 12*MiB)
	}
	e.replacePart(t, url, 2)

	// The project's client resumes: its last PATCH completes the upload,
	// the store refuses the completion, the gateway answers 409 with the
	// offset moved back to the end of part 1, and the client sends from
	// there.
	c, err := client.New(client.Config{ChunkSize: 32 * MiB})
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Upload(context.Background(), bytes.NewReader(data), size, client.UploadOptions{
		Endpoint: p.URL, Resume: &client.Resume{URL: url},
	})
	if err != nil {
		t.Fatalf("resuming with the client: %v\nlogs:\n%s", err, p.Logs())
	}
	if info.URL != url {
		t.Fatalf("the client finished %s, want the resumed %s", info.URL, url)
	}
	e.checkContent(t, url, data)
	e.checkNothingLeft(t, url)
	if got := rewound(t, p); got != 1 {
		t.Fatalf("tusgate_uploads_rewound_total = %v, want 1", got)
	}
	if !strings.Contains(p.Logs(), "from=16777216 to=5242880") {
		t.Fatalf("no log line of the rewind to the end of part 1:\n%s", p.Logs())
	}
}

// An upload whose every byte arrived but whose object was not assembled
// (here a pre-finish hook refused once; in the field the replica died in
// between) is assembled by the next HEAD before it reports the offset,
// because an offset equal to the length tells a client it is done. When the
// store has lost the session meanwhile, HEAD reports the offset moved back
// (to 0, with a new session), and the bytes sent again finish the upload.
func TestHeadRewindsAnUploadWhoseSessionIsGone(t *testing.T) {
	t.Parallel()
	const size = 7 * MiB
	e := newEnv(t)
	var refuse atomic.Bool
	refuse.Store(true)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct{ Type string }
		_ = json.NewDecoder(r.Body).Decode(&ev)
		w.Header().Set("Content-Type", "application/json")
		if ev.Type == "pre-finish" && refuse.Load() {
			_, _ = w.Write([]byte(`{"HTTPResponse":{"StatusCode":400,"Body":"not yet"}}`))
			return
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(hook.Close)
	p := e.start(t, "--hooks-http", hook.URL, "--hooks-enabled-events", "pre-finish")
	data := sourceData(size, 42)

	url := e2e.Create(t, p.URL, size, nil)
	if r := send(http.MethodPatch, url, patchHeader(0), data); r.err != nil || r.status != http.StatusBadRequest {
		t.Fatalf("PATCH while pre-finish refuses: %d %q %v, want 400", r.status, r.body, r.err)
	}
	if _, err := e.s3.AbortMultipartUpload(context.Background(), &s3.AbortMultipartUploadInput{
		Bucket: &e.bucket, Key: aws.String(e.key(url)), UploadId: aws.String(e.session(t, url)),
	}); err != nil {
		t.Fatal(err)
	}
	refuse.Store(false)

	if got := e2e.Offset(t, url); got != 0 {
		t.Fatalf("HEAD after the session was lost: Upload-Offset %d, want 0\nlogs:\n%s", got, p.Logs())
	}
	if r := send(http.MethodGet, url, nil, nil); r.status != http.StatusConflict {
		t.Fatalf("GET of the rewound upload: %d, want 409", r.status)
	}
	if got := e2e.Patch(t, url, 0, data); got != size {
		t.Fatalf("PATCH after the rewind: Upload-Offset %d, want %d", got, size)
	}
	e.checkContent(t, url, data)
	e.checkNothingLeft(t, url)
	if got := rewound(t, p); got != 1 {
		t.Fatalf("tusgate_uploads_rewound_total = %v, want 1", got)
	}
}

// replacePart uploads other bytes as part num of the upload's session.
func (e *env) replacePart(t *testing.T, uploadURL string, num int32) {
	t.Helper()
	if _, err := e.s3.UploadPart(context.Background(), &s3.UploadPartInput{
		Bucket: &e.bucket, Key: aws.String(e.key(uploadURL)), UploadId: aws.String(e.session(t, uploadURL)),
		PartNumber: aws.Int32(num), Body: bytes.NewReader(sourceData(partSize, 99)),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c, // the session's, as tusgate began it
	}); err != nil {
		t.Fatal(err)
	}
}

// session is the UploadId of the upload's one multipart upload.
func (e *env) session(t *testing.T, uploadURL string) string {
	t.Helper()
	ups, err := e.listMultipart(e.key(uploadURL))
	if err != nil || len(ups) != 1 {
		t.Fatalf("multipart uploads of %s: %v (%v), want one", uploadURL, ups, err)
	}
	return ups[0][1]
}

// checkNothingLeft fails if anything but the finished object remains under
// the upload's key: a multipart upload, a tail.
func (e *env) checkNothingLeft(t *testing.T, uploadURL string) {
	t.Helper()
	if ups := e.multipartUnder(t, e.key(uploadURL)); len(ups) > 0 {
		t.Fatalf("multipart uploads left: %v", ups)
	}
	if keys := e.keysUnder(t, e.key(uploadURL)); len(keys) != 1 {
		t.Fatalf("objects under %s: %v, want only the finished object", e.key(uploadURL), keys)
	}
}

// rewound reads tusgate_uploads_rewound_total from p's /metrics.
func rewound(t *testing.T, p *e2e.Proc) float64 {
	t.Helper()
	m := e2e.Scrape(t, e2e.MetricsURL(p))
	if _, ok := m.Values["tusgate_uploads_rewound_total"]; !ok {
		t.Fatalf("no tusgate_uploads_rewound_total in /metrics")
	}
	return m.Get("tusgate_uploads_rewound_total")
}
