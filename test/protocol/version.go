package protocol

import (
	"net/http"
	"testing"
)

func (s *suite) version(t *testing.T) {
	sv := s.start(t, defaultConfig())

	// refused runs the four tus requests with the given Tus-Resumable
	// headers and checks 412 + Tus-Version and the absence of side effects.
	refused := func(t *testing.T, bad http.Header) {
		with := func(kv ...string) http.Header {
			h := hdr(kv...)
			for k, v := range bad {
				h[k] = v
			}
			return h
		}
		t.Run("POST_creates_nothing", func(t *testing.T) {
			sv.noneCreated(t, func() {
				r := sv.post(t, with("Upload-Length", "10"), nil)
				wantStatus(t, r, http.StatusPreconditionFailed)
				wantHeader(t, r, "Tus-Version", tusVersion)
				wantNoHeader(t, r, "Location")
			})
		})
		t.Run("PATCH_leaves_the_offset", func(t *testing.T) {
			url := sv.create(t, 10)
			r := sv.do(t, http.MethodPatch, url, with("Content-Type", offsetOctet, "Upload-Offset", "0"), []byte("hello"))
			wantStatus(t, r, http.StatusPreconditionFailed)
			wantHeader(t, r, "Tus-Version", tusVersion)
			wantNoHeader(t, r, "Upload-Offset")
			sv.wantOffset(t, url, 0)
		})
		t.Run("DELETE_leaves_the_upload", func(t *testing.T) {
			url := sv.create(t, 10)
			r := sv.do(t, http.MethodDelete, url, with(), nil)
			wantStatus(t, r, http.StatusPreconditionFailed)
			wantHeader(t, r, "Tus-Version", tusVersion)
			sv.wantOffset(t, url, 0)
		})
		t.Run("HEAD_reveals_no_offset", func(t *testing.T) {
			url := sv.create(t, 10)
			r := sv.do(t, http.MethodHead, url, with(), nil)
			wantStatus(t, r, http.StatusPreconditionFailed)
			wantHeader(t, r, "Tus-Version", tusVersion)
			wantNoHeader(t, r, "Upload-Offset")
		})
	}

	t.Run("E3_H2_unsupported_tus_resumable_is_412_with_tus_version_and_no_side_effects", func(t *testing.T) {
		refused(t, hdr("Tus-Resumable", "2.0.0"))
	})
	t.Run("E4_H2b_missing_tus_resumable_is_412_with_tus_version", func(t *testing.T) {
		refused(t, hdr())
	})

	t.Run("E5_H1_every_status_carries_tus_resumable", func(t *testing.T) {
		// send() checks Tus-Resumable on every response of the suite; this
		// tour makes sure each error status is among them.
		url := sv.create(t, 5)
		seen := map[int]bool{}
		note := func(r *resp) { seen[r.status] = true; checkCommon(t, r) }
		note(sv.do(t, http.MethodOptions, basePath, nil, nil))                                         // 200
		note(sv.post(t, tus("Upload-Length", "5"), nil))                                               // 201
		note(sv.patch(t, url, 0, []byte("ab")))                                                        // 204
		note(sv.post(t, tus(), nil))                                                                   // 400
		note(sv.head(t, basePath+"0123456789abcdef0123456789abcdef"))                                  // 404
		note(sv.do(t, http.MethodPut, url, tus(), nil))                                                // 405
		note(sv.patch(t, url, 0, []byte("ab")))                                                        // 409
		note(sv.post(t, hdr("Upload-Length", "5"), nil))                                               // 412
		note(sv.post(t, tus("Upload-Length", "99999999"), nil))                                        // 413
		note(sv.do(t, http.MethodPatch, url, tus("Upload-Offset", "2"), []byte("c")))                  // 415
		note(sv.patch(t, url, 2, []byte("c"), "Upload-Checksum", "sha1 AAAAAAAAAAAAAAAAAAAAAAAAAAA=")) // 460
		for _, code := range []int{200, 201, 204, 400, 404, 405, 409, 412, 413, 415, 460} {
			if !seen[code] {
				t.Errorf("the tour produced no %d response; statuses seen: %v", code, seen)
			}
		}
	})

	t.Run("E6_H8_method_override_patch_on_post_appends", func(t *testing.T) {
		url := sv.create(t, 11)
		r := sv.do(t, http.MethodPost, url, tus("X-HTTP-Method-Override", "PATCH", "Content-Type", offsetOctet,
			"Upload-Offset", "0"), []byte("hello world"))
		wantStatus(t, r, http.StatusNoContent)
		wantHeader(t, r, "Upload-Offset", "11")
		sv.wantContent(t, url, []byte("hello world"))
	})

	t.Run("E6_T4_method_override_delete_on_post_terminates", func(t *testing.T) {
		url := sv.create(t, 11)
		r := sv.do(t, http.MethodPost, url, tus("X-HTTP-Method-Override", "DELETE"), nil)
		wantStatus(t, r, http.StatusNoContent)
		wantStatus(t, sv.head(t, url), http.StatusNotFound)
	})

	t.Run("E7_unsupported_method_is_405_with_allow", func(t *testing.T) {
		url := sv.create(t, 5)
		for _, target := range []string{url, basePath} {
			r := sv.do(t, http.MethodPut, target, tus(), []byte("x"))
			wantStatus(t, r, http.StatusMethodNotAllowed)
			if r.get("Allow") == "" {
				t.Errorf("PUT %s → 405 without Allow", target)
			}
		}
		r := sv.do(t, http.MethodPut, url, tus(), []byte("x"))
		wantList(t, r, "Allow", "HEAD", "PATCH", "DELETE")
		sv.wantOffset(t, url, 0)
	})

	t.Run("H2b_get_download_does_not_need_tus_resumable", func(t *testing.T) {
		url := sv.upload(t, []byte("data"))
		r := sv.do(t, http.MethodGet, url, nil, nil)
		wantStatus(t, r, http.StatusOK)
		if string(r.body) != "data" {
			t.Errorf("GET body %q, want %q", r.body, "data")
		}
	})
}
