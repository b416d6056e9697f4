package azuree2e

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/tusgate/tusgate/test/e2e"
	"github.com/tusgate/tusgate/test/testenv"
)

// Sizes 0, 1 and around the 1 MiB block size, each in one PATCH and in
// PATCHes of 300 KiB (tails between them); the blob carries the type and
// file name from the metadata.
func TestBoundarySizes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.start(t)
	e2e.BoundarySizes(t, p.URL, partSize, func(t *testing.T, url string, data []byte) {
		props := e.checkContent(t, url, data)
		if ct := *props.ContentType; ct != "application/pdf" {
			t.Errorf("Content-Type %q", ct)
		}
		if cd := props.ContentDisposition; cd == nil || *cd != `inline; filename*=utf-8''r%C3%A9sum%C3%A9.pdf` {
			t.Errorf("Content-Disposition %v", cd)
		}
		if v := props.Metadata["Filetype"]; v == nil || *v != "application/pdf" {
			t.Errorf("metadata %v", props.Metadata)
		}
	})
}

// TestRandomChunksAlternateBetweenReplicas sends 100 MiB in seeded random
// chunk sizes, mostly below the block size, each PATCH to the other of two
// replicas sharing Redis and the container; the blob's SHA-256 must equal
// the source's.
func TestRandomChunksAlternateBetweenReplicas(t *testing.T) {
	t.Parallel()
	const size = 100 * MiB
	e := newEnv(t)
	url, data := e2e.Alternate(t, e.start, size, partSize, 7)
	e.checkContent(t, url, data)
}

// TestManySmallPatches sends 2 MiB as 400 PATCHes of about 5 KiB: every one
// ends in a tail blob, and the finished blob has the source's bytes.
func TestManySmallPatches(t *testing.T) {
	t.Parallel()
	const size = 2*MiB + 123
	e := newEnv(t)
	p := e.start(t)
	data := sourceData(size, 11)
	url := e2e.Create(t, p.URL, size, nil)
	step := size/400 + 1
	for off := 0; off < size; off += step {
		end := min(off+step, size)
		if got := e2e.Patch(t, url, int64(off), data[off:end]); got != int64(end) {
			t.Fatalf("PATCH at %d: offset %d", off, got)
		}
	}
	e.checkContent(t, url, data)
}

// TestSIGKILLMidPatchFinishesOnOtherReplica kills replica A while a PATCH
// streams into it, after two blocks were committed; replica B reports an
// offset within what was committed and sent, and finishing there gives the
// source's bytes.
func TestSIGKILLMidPatchFinishesOnOtherReplica(t *testing.T) {
	t.Parallel()
	const size = 8 * MiB
	e := newEnv(t)
	k := e2e.StartTakeover(t, e.start, e.redisURL, size, 8)
	data := k.Data
	s := e2e.StartStream(t, k.URL, 0, nil)
	const sent = 3*partSize + partSize/2
	if err := s.Send(data[:sent]); err != nil {
		t.Fatal(err)
	}
	committed := k.AwaitCommitted(t, 2*partSize, nil)
	k.A.Kill()
	s.Abort()
	s.Wait(t, e2e.ExitDeadline)
	offset := k.OffsetOnB(t, committed, sent)
	if got := e2e.Patch(t, k.B.On(k.URL), offset, data[offset:]); got != size {
		t.Fatalf("finishing PATCH on B: offset %d", got)
	}
	e.checkContent(t, k.B.On(k.URL), data)
}

// TestAzuriteRestartMidUpload stops a private Azurite between PATCHes (a
// tail and staged blocks stored): a PATCH then gets 503, HEAD still answers
// from state; after Azurite comes back on the same data the upload resumes
// at HEAD's offset and the blob equals the source.
func TestAzuriteRestartMidUpload(t *testing.T) {
	t.Parallel()
	testenv.Azurite(t) // skip or fail like the others when Azurite is not set up
	const size = 6 * MiB
	az := startOwnAzurite(t)
	e := newEnvAt(t, az.connString, "restart")
	p := e.start(t)
	data := sourceData(size, 12)
	url := e2e.Create(t, p.URL, size, nil)
	const first = 2*partSize + 1000
	if got := e2e.Patch(t, url, 0, data[:first]); got != first {
		t.Fatalf("first PATCH: offset %d", got)
	}
	az.run(t, "stop")
	req, err := e2e.NewRequest(context.Background(), http.MethodPatch, url, bytes.NewReader(data[first:first+partSize]))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Upload-Offset", strconv.Itoa(first))
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	res := e2e.Do(t, req)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("PATCH while Azurite is down: status %d, want 503", res.StatusCode)
	}
	offset := e2e.Offset(t, url)
	if offset < first {
		t.Fatalf("HEAD during the outage: offset %d, want at least %d", offset, first)
	}
	az.run(t, "start")
	if got := e2e.Patch(t, url, offset, data[offset:]); got != size {
		t.Fatalf("PATCH after the restart: offset %d", got)
	}
	e.checkContent(t, url, data)
}

// azurite is a private Azurite on a port of its own.
type azurite struct {
	dir, connString string
	env             []string
}

func startOwnAzurite(t *testing.T) *azurite {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	port := testenv.FreePort(t)
	prefix := os.Getenv("AZURITE_NPM_PREFIX")
	if prefix == "" {
		prefix = filepath.Join(root, ".cache", "services", "azurite-npm")
	}
	a := &azurite{
		dir: t.TempDir(),
		env: []string{"AZURITE_BLOB_PORT=" + strconv.Itoa(port), "AZURITE_NPM_PREFIX=" + prefix},
		connString: "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
			"AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
			"BlobEndpoint=http://127.0.0.1:" + strconv.Itoa(port) + "/devstoreaccount1;",
	}
	t.Cleanup(func() { a.run(t, "stop") })
	a.run(t, "start")
	c, err := container.NewClientFromConnectionString(a.connString, "restart", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(context.Background(), nil); err != nil {
		t.Fatalf("create container: %v", err)
	}
	return a
}

func (a *azurite) run(t *testing.T, cmd string) {
	t.Helper()
	testenv.RunService(t, "azurite.sh", cmd, a.dir, a.env)
}

// TestSASAndProxiedDownloadsShareOneHeaderPolicy: the blob's stored
// Content-Type and Content-Disposition, served through a SAS URL by
// --download-redirect, equal what the gateway answers when it streams the
// download itself.
func TestSASAndProxiedDownloadsShareOneHeaderPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	proxied := e.start(t)
	redirecting := e.start(t, "--download-redirect", "5m")
	e2e.CheckDownloadHeaders(t, proxied.URL, redirecting.URL)
}
