package replica

import (
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tusgate/tusgate/test/e2e"
)

// TestExpiredUploadIsSweptOnceAcrossReplicas runs three replicas that all
// sweep (--expiration 2s --sweep-interval 500ms). An abandoned upload with
// some bytes must be removed exactly once: its file goes, every replica
// answers HEAD with 404, and across all replicas one removal is counted
// and logged. A finished upload, created at the same time, is kept.
func TestExpiredUploadIsSweptOnceAcrossReplicas(t *testing.T) {
	const sweepInterval = 500 * time.Millisecond
	c := startCluster(t, 3, sharedRedis(t), "--expiration", "2s", "--sweep-interval", sweepInterval.String())

	abandoned := e2e.Create(t, c.nodes[0].URL, 4*MiB, nil)
	e2e.Patch(t, c.at(1, abandoned), 0, source(MiB, 8))
	lastWrite := time.Now()
	// Created with its body in one request, so it is finished before it
	// could expire.
	done := source(MiB, 9)
	create := send(t, http.MethodPost, c.nodes[2].URL, http.Header{
		"Upload-Length": {strconv.Itoa(len(done))},
		"Content-Type":  {"application/offset+octet-stream"},
	}, done, e2e.RequestDeadline)
	if create.status != http.StatusCreated || uploadOffset(t, create.header) != int64(len(done)) {
		t.Fatalf("creation with upload: %d, Upload-Offset %q, want 201 and %d", create.status, create.header.Get("Upload-Offset"), len(done))
	}
	finished := create.header.Get("Location")

	e2e.Eventually(t, eventDeadline, "the abandoned upload to be swept (file gone, HEAD 404 everywhere)", func() bool {
		if _, err := os.Stat(c.dataFile(abandoned)); !errors.Is(err, fs.ErrNotExist) {
			return false
		}
		for i := range c.nodes {
			if e2e.Head(t, c.at(i, abandoned)).StatusCode != http.StatusNotFound {
				return false
			}
		}
		return true
	})
	t.Logf("abandoned upload swept within %s of its last write (expiration 2s)", time.Since(lastWrite).Round(100*time.Millisecond))
	// Give every replica a few more sweeps, in which a second removal of
	// the same upload would show.
	time.Sleep(4 * sweepInterval)

	var removals float64
	logged := 0
	id := path.Base(abandoned)
	for i, p := range c.nodes {
		removals += c.metric(t, i, "tusgate_uploads_expired_total")
		for line := range strings.SplitSeq(p.Logs(), "\n") {
			if strings.Contains(line, "expired upload removed") && strings.Contains(line, id) {
				logged++
			}
		}
	}
	if removals != 1 || logged != 1 {
		t.Fatalf("the abandoned upload was removed %v times by the metrics and %d times by the logs, want exactly once", removals, logged)
	}

	for i := range c.nodes {
		res := e2e.Head(t, c.at(i, finished))
		if res.StatusCode != http.StatusOK || res.Header.Get("Upload-Offset") != strconv.Itoa(len(done)) {
			t.Fatalf("HEAD of the finished upload on replica %d: %d, Upload-Offset %q, want 200 and %d",
				i, res.StatusCode, res.Header.Get("Upload-Offset"), len(done))
		}
	}
	if got, err := os.ReadFile(c.dataFile(finished)); err != nil || !bytes.Equal(got, done) {
		t.Fatalf("the finished upload's file: %v (%d bytes), want its %d bytes", err, len(got), len(done))
	}
	checkContent(t, c.at(0, finished), done)
}
