package protocol

import (
	"net/http"
	"strconv"
	"testing"
)

func (s *suite) concurrency(t *testing.T) {
	sv := s.start(t, defaultConfig())

	t.Run("E33_head_during_stalled_patch_takes_over_and_reports_a_resumable_offset", func(t *testing.T) {
		data := payload(10_000, 33)
		url := sv.create(t, int64(len(data)))
		id := idOf(t, url)
		st := sv.startPatch(t, url, 0)
		st.write(t, data[:3000])
		sv.waitLocked(t, id)

		// The HEAD asks the stalled PATCH to let go; the PATCH stores what
		// it got and answers 423 while its body is still open.
		off := sv.offset(t, url)
		r := st.wait(t)
		wantStatus(t, r, http.StatusLocked)
		if off > 3000 {
			t.Fatalf("HEAD reports %d bytes, only 3000 were sent", off)
		}
		if got := r.get("Upload-Offset"); got != strconv.FormatInt(off, 10) {
			t.Errorf("the 423 says Upload-Offset %q, the HEAD %d", got, off)
		}
		sv.patchOK(t, url, off, data[off:])
		sv.wantContent(t, url, data)
	})

	t.Run("E33_head_during_stalled_content_length_patch_takes_over", func(t *testing.T) {
		// Most clients send a Content-Length; the 423 must not wait for
		// the rest of a body that will never come.
		data := payload(10_000, 331)
		url := sv.create(t, int64(len(data)))
		rc := sv.dial(t)
		rc.writeRequest(t, http.MethodPatch, pathOf(t, url), "Tus-Resumable: 1.0.0", "Content-Type: "+offsetOctet,
			"Upload-Offset: 0", "Content-Length: "+strconv.Itoa(len(data)))
		rc.write(t, data[:3000])
		sv.waitLocked(t, idOf(t, url))
		off := sv.offset(t, url)
		if off > 3000 {
			t.Fatalf("HEAD reports %d bytes, only 3000 were sent", off)
		}
		r := rc.readResponse(t, http.MethodPatch) // the connection stays open
		wantStatus(t, r, http.StatusLocked)
		wantHeader(t, r, "Upload-Offset", strconv.FormatInt(off, 10))
		sv.patchOK(t, url, off, data[off:])
		sv.wantContent(t, url, data)
	})

	t.Run("E32_concurrent_patches_never_both_succeed_at_one_offset", func(t *testing.T) {
		data := payload(10_000, 32)
		url := sv.create(t, int64(len(data)))
		id := idOf(t, url)
		st := sv.startPatch(t, url, 0)
		st.write(t, data[:2000])
		sv.waitLocked(t, id)

		// A second PATCH at the same offset takes over. It succeeds only
		// if the first stored nothing; otherwise it gets 409 with the
		// offset to resume from.
		second := sv.patch(t, url, 0, data)
		first := st.wait(t)
		if first.status == http.StatusNoContent && second.status == http.StatusNoContent {
			t.Fatal("both PATCHes at offset 0 succeeded")
		}
		wantStatus(t, first, http.StatusLocked)
		switch second.status {
		case http.StatusNoContent:
			wantHeader(t, second, "Upload-Offset", strconv.Itoa(len(data)))
		case http.StatusConflict:
			off, err := strconv.ParseInt(second.get("Upload-Offset"), 10, 64)
			if err != nil || off <= 0 || off > 2000 {
				t.Fatalf("409 with Upload-Offset %q, want the 1..2000 bytes the first PATCH stored", second.get("Upload-Offset"))
			}
			sv.wantOffset(t, url, off)
			sv.patchOK(t, url, off, data[off:])
		default:
			t.Fatalf("second PATCH → %d, want 204 or 409", second.status)
		}
		sv.wantContent(t, url, data)
	})

	t.Run("E32_parallel_patches_at_one_offset_store_one_body", func(t *testing.T) {
		// Clients race with whole bodies at offset 0. Each newcomer asks the
		// holder to let go, so bodies get cut (a cut client may also see its
		// connection reset); but only one request can ever have stored bytes
		// at offset 0, and what is stored must be a prefix of one body.
		const n, size = 6, 64 << 10
		url := sv.create(t, size)
		bodies := make([][]byte, n)
		reqs := make([]*http.Request, n)
		for i := range n {
			bodies[i] = payload(size, uint64(100+i))
			reqs[i] = sv.request(t, http.MethodPatch, url, tus("Content-Type", offsetOctet, "Upload-Offset", "0"), bodies[i])
		}
		results := make([]result, n)
		done := make(chan struct{})
		for i := range n {
			go func() {
				r, err := sv.exchange(reqs[i])
				results[i] = result{r: r, err: err}
				done <- struct{}{}
			}()
		}
		for range n {
			<-done
		}
		winner, cut := -1, 0
		for i, res := range results {
			if res.err != nil {
				cut++ // the server hung up on this body; it may have stored some
				continue
			}
			checkCommon(t, res.r)
			switch res.r.status {
			case http.StatusNoContent, http.StatusLocked:
				off, _ := strconv.ParseInt(res.r.get("Upload-Offset"), 10, 64)
				if off == 0 {
					continue
				}
				if winner >= 0 {
					t.Fatalf("PATCH %d and %d both stored bytes at offset 0", winner, i)
				}
				winner = i
			case http.StatusConflict:
			default:
				t.Fatalf("PATCH %d → %d, want 204, 409 or 423", i, res.r.status)
			}
		}
		stored := sv.offset(t, url)
		if stored < size {
			sv.patchOK(t, url, stored, bodies[0][stored:])
		}
		got := sv.content(t, url)
		if len(got) != size || string(got[stored:]) != string(bodies[0][stored:]) {
			t.Fatalf("content after completing from offset %d is wrong", stored)
		}
		owner := -1
		for i := range n {
			if string(got[:stored]) == string(bodies[i][:stored]) {
				owner = i
				break
			}
		}
		switch {
		case owner < 0:
			t.Fatalf("the %d stored bytes are not a prefix of any one body", stored)
		case winner >= 0 && stored > 0 && owner != winner:
			t.Fatalf("PATCH %d reported storing bytes, but they are from body %d", winner, owner)
		}
		t.Logf("%d bytes stored by body %d; %d of %d requests were cut by the server", stored, owner, cut, n)
	})
}
