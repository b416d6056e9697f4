package gcse2e

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tusgate/tusgate/test/e2e"
)

// Sizes 0, 1 and around the 1 MiB part size, each in one PATCH and in
// PATCHes of 300 KiB (tails between them); the object carries the type,
// file name and tus metadata.
func TestBoundarySizes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.start(t)
	e2e.BoundarySizes(t, p.URL, partSize, func(t *testing.T, url string, data []byte) {
		a := e.checkContent(t, url, data)
		if a.ContentType != "application/pdf" {
			t.Errorf("Content-Type %q", a.ContentType)
		}
		if a.ContentDisposition != `inline; filename*=utf-8''r%C3%A9sum%C3%A9.pdf` {
			t.Errorf("Content-Disposition %q", a.ContentDisposition)
		}
		if a.Metadata["filetype"] != "application/pdf" || a.Metadata["filename"] != "r\u00e9sum\u00e9.pdf" {
			t.Errorf("metadata %v", a.Metadata)
		}
	})
}

// TestRandomChunksAlternateBetweenReplicas sends 100 MiB in seeded random
// chunk sizes, mostly below the part size, each PATCH to the other of two
// replicas sharing Redis and the bucket; after each the other replica
// reports the new offset, and the object's SHA-256 equals the source's.
func TestRandomChunksAlternateBetweenReplicas(t *testing.T) {
	t.Parallel()
	const size = 100 * MiB
	e := newEnv(t)
	url, data := e2e.Alternate(t, e.start, size, partSize, 7)
	e.checkContent(t, url, data)
}

// TestMorePatchesThanComponents sends 1,150 PATCHes of about 1 KiB, more
// than the 1,024 components a composite object may have: PATCHes are not
// parts (each ends in a tail object joined to the next part), so the
// upload completes with the source's bytes.
func TestMorePatchesThanComponents(t *testing.T) {
	t.Parallel()
	const patches = 1150
	const size = partSize + 100<<10
	e := newEnv(t)
	p := e.start(t)
	data := sourceData(size, 11)
	url := e2e.Create(t, p.URL, size, nil)
	if n := e2e.PatchChunks(t, url, data, size/patches+1); n <= 1100 {
		t.Fatalf("only %d PATCHes", n)
	}
	e.checkContent(t, url, data)
}

// TestConcatenationComposesPartials concatenates partials of 1 MiB+3
// bytes, 2 bytes, nothing and 1 MiB into a final upload whose object holds
// exactly their bytes in order, with the final's metadata; the partials
// stay readable.
func TestConcatenationComposesPartials(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.start(t)
	sizes := []int{partSize + 3, 2, 0, partSize}
	var urls []string
	var all []byte
	for i, size := range sizes {
		data := sourceData(size, uint64(100+i))
		url := e2e.Create(t, p.URL, int64(size), http.Header{"Upload-Concat": {"partial"}})
		if size > 0 {
			if got := e2e.Patch(t, url, 0, data); got != int64(size) {
				t.Fatalf("partial %d: Upload-Offset %d, want %d", i, got, size)
			}
		}
		urls = append(urls, url)
		all = append(all, data...)
	}
	req := e2e.Req(t, http.MethodPost, p.URL, nil)
	req.Header.Set("Upload-Concat", "final;"+strings.Join(urls, " "))
	req.Header.Set("Upload-Metadata", "filetype "+base64.StdEncoding.EncodeToString([]byte("video/mp4")))
	res := e2e.Do(t, req)
	res.Body.Close()
	final := res.Header.Get("Location")
	if res.StatusCode != http.StatusCreated || final == "" {
		t.Fatalf("POST final: status %d, Location %q", res.StatusCode, final)
	}
	if got := e2e.Offset(t, final); got != int64(len(all)) {
		t.Fatalf("HEAD final: offset %d, want %d", got, len(all))
	}
	if a := e.checkContent(t, final, all); a.ContentType != "video/mp4" {
		t.Errorf("final Content-Type %q", a.ContentType)
	}
	off := 0
	for i, url := range urls {
		e.checkContent(t, url, all[off:off+sizes[i]])
		off += sizes[i]
	}
}

// startUnfinished sends 3.5 MiB of a 6 MiB upload: three part objects
// under the upload's hidden prefix and a tail. It checks both exist, so
// the clean-up checks that follow mean something.
func startUnfinished(t *testing.T, e *env, p *e2e.Proc) string {
	t.Helper()
	data := sourceData(6*MiB, 13)
	url := e2e.Create(t, p.URL, int64(len(data)), nil)
	if got := e2e.Patch(t, url, 0, data[:3*MiB+MiB/2]); got != 3*MiB+MiB/2 {
		t.Fatalf("PATCH: offset %d", got)
	}
	parts := e.objectsUnder(t, e.objectName(url)+".parts/")
	all := e.objectsUnder(t, e.objectName(url))
	if len(parts) != 3 || len(all) != 4 {
		t.Fatalf("under %s: %v (parts %v), want three parts and a tail", e.objectName(url), all, parts)
	}
	return url
}

// TestTerminationRemovesPartObjects deletes an unfinished upload: its part
// objects and tail go with it.
func TestTerminationRemovesPartObjects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.start(t)
	url := startUnfinished(t, e, p)
	res := e2e.Do(t, e2e.Req(t, http.MethodDelete, url, nil))
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: status %d", res.StatusCode)
	}
	if left := e.objectsUnder(t, e.objectName(url)); len(left) != 0 {
		t.Fatalf("objects after DELETE: %v", left)
	}
	if s := e2e.Head(t, url).StatusCode; s != http.StatusNotFound {
		t.Fatalf("HEAD after DELETE: status %d", s)
	}
}

// TestExpirySweepsPartObjects leaves an upload unfinished past
// --expiration: the sweeper removes its part objects and tail.
func TestExpirySweepsPartObjects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := e.start(t, "--expiration", "2s", "--sweep-interval", "500ms")
	url := startUnfinished(t, e, p)
	e2e.Eventually(t, time.Minute, "the sweeper to remove the upload's objects", func() bool {
		return len(e.objectsUnder(t, e.objectName(url))) == 0
	})
	e2e.Eventually(t, time.Minute, "HEAD to report the upload gone", func() bool {
		s := e2e.Head(t, url).StatusCode
		return s == http.StatusNotFound || s == http.StatusGone
	})
}

// TestDownloadRedirectsToASignedURL: with a signing key and
// --download-redirect, GET answers 302 with a V4 signed URL of the object
// on the emulator, which serves exactly the bytes.
func TestDownloadRedirectsToASignedURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	keyFile := writeServiceAccountKey(t)
	p := e2e.Start(t, "--store", e.storeURL("sign_key_file="+keyFile), "--state", e.redisURL, "--download-redirect", "5m")
	data := sourceData(partSize+123, 7)
	url := e2e.Create(t, p.URL, int64(len(data)), nil)
	if got := e2e.Patch(t, url, 0, data); got != int64(len(data)) {
		t.Fatalf("PATCH: offset %d", got)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusFound || !strings.Contains(loc, "/"+e.bucket+"/"+e.objectName(url)+"?") ||
		!strings.Contains(loc, "X-Goog-Signature=") {
		t.Fatalf("GET: status %d, Location %q; want 302 to a signed URL of %s", res.StatusCode, loc, e.objectName(url))
	}
	obj, err := http.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, obj.Body); err != nil || obj.StatusCode != http.StatusOK {
		t.Fatalf("GET signed URL: status %d, %v", obj.StatusCode, err)
	}
	if want := sha256.Sum256(data); string(h.Sum(nil)) != string(want[:]) {
		t.Fatal("the signed URL served other bytes than were uploaded")
	}
}

// writeServiceAccountKey writes a service-account key file with a fresh
// RSA key (the emulator does not check signatures; the URL's form is
// what a real bucket would check).
func writeServiceAccountKey(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(map[string]string{"type": "service_account", "client_email": "tusgate@test.iam.gserviceaccount.com",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))})
	path := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMissingBucketStopsStartUp: a --store naming a bucket that does not
// exist makes the binary exit non-zero with a message naming it.
func TestMissingBucketStopsStartUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.bucket = "tusgate-no-such-bucket"
	code, logs := e2e.Run(t, e2e.Options{}, "--listen", "127.0.0.1:0", "--store", e.storeURL(), "--state", e.redisURL)
	if code == 0 || !strings.Contains(logs, "tusgate-no-such-bucket") || !strings.Contains(logs, "does not exist") || !strings.Contains(logs, "--store") {
		t.Fatalf("exit code %d; the start-up error must name the bucket and the setting:\n%s", code, logs)
	}
}

// TestSIGKILLMidPatchFinishesOnOtherReplica kills replica A while a PATCH
// streams into it, after two parts were committed; replica B reports an
// offset within what was committed and sent, and finishing there gives the
// source's bytes. Then a PATCH interrupted by the client on B keeps what
// arrived: HEAD counts more than the parts committed before.
func TestSIGKILLMidPatchFinishesOnOtherReplica(t *testing.T) {
	t.Parallel()
	const size = 8 * MiB
	e := newEnv(t)
	k := e2e.StartTakeover(t, e.start, e.redisURL, size, 8)
	url, b, data := k.URL, k.B, k.Data

	s := e2e.StartStream(t, url, 0, nil)
	const sent = 3*partSize + partSize/2
	if err := s.Send(data[:sent]); err != nil {
		t.Fatal(err)
	}
	committed := k.AwaitCommitted(t, 2*partSize, nil)
	k.A.Kill()
	s.Abort()
	s.Wait(t, e2e.ExitDeadline)
	offset := k.OffsetOnB(t, committed, sent)

	// The client drops a PATCH to B after another part and a half.
	s = e2e.StartStream(t, b.On(url), offset, nil)
	if err := s.Send(data[offset : offset+partSize+partSize/2]); err != nil {
		t.Fatal(err)
	}
	before := k.AwaitCommitted(t, offset+partSize/2, nil)
	s.Abort()
	s.Wait(t, e2e.ExitDeadline)
	resumed := e2e.Offset(t, b.On(url))
	if resumed <= before-partSize/2 || resumed > offset+partSize+partSize/2 {
		t.Fatalf("after the interrupted PATCH HEAD says %d; committed %d, sent up to %d", resumed, before, offset+partSize+partSize/2)
	}
	if got := e2e.Patch(t, b.On(url), resumed, data[resumed:]); got != size {
		t.Fatalf("finishing PATCH on B: offset %d", got)
	}
	e.checkContent(t, b.On(url), data)
}

// TestSignedAndProxiedDownloadsShareOneHeaderPolicy: the object's stored
// Content-Type and Content-Disposition, served through a signed URL by
// --download-redirect, equal what the gateway answers when it streams the
// download itself.
func TestSignedAndProxiedDownloadsShareOneHeaderPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	proxied := e.start(t)
	redirecting := e2e.Start(t, "--store", e.storeURL("sign_key_file="+writeServiceAccountKey(t)), "--state", e.redisURL, "--download-redirect", "5m")
	e2e.CheckDownloadHeaders(t, proxied.URL, redirecting.URL)
}
