package protocol

import (
	"net/http"
	"testing"
)

// tusRequestHeaders are the request headers a browser tus client sends.
var tusRequestHeaders = []string{"Authorization", "Origin", "X-Requested-With", "X-Request-ID", "X-HTTP-Method-Override",
	"Content-Type", "Upload-Length", "Upload-Offset", "Tus-Resumable", "Upload-Metadata", "Upload-Defer-Length",
	"Upload-Concat", "Upload-Checksum"}

// tusResponseHeaders are the response headers a browser tus client reads.
var tusResponseHeaders = []string{"Upload-Offset", "Location", "Upload-Length", "Tus-Version", "Tus-Resumable",
	"Tus-Max-Size", "Tus-Extension", "Upload-Metadata", "Upload-Defer-Length", "Upload-Concat", "Upload-Expires",
	"Tus-Checksum-Algorithm"}

const origin = "https://app.example"

func (s *suite) cors(t *testing.T) {
	sv := s.start(t, defaultConfig())
	cfg := defaultConfig()
	cfg.CORSOrigins = []string{origin}
	one := s.start(t, cfg)

	preflight := func(sv *server, target, from string) *resp {
		return sv.do(t, http.MethodOptions, target, hdr("Origin", from, "Access-Control-Request-Method", "PATCH",
			"Access-Control-Request-Headers", "tus-resumable,upload-offset,content-type,upload-checksum"), nil)
	}

	t.Run("preflight_from_an_allowed_origin_allows_the_tus_methods_and_headers", func(t *testing.T) {
		url := sv.create(t, 5)
		for _, srv := range []*server{sv, one} {
			for _, target := range []string{basePath, url} {
				r := preflight(srv, target, origin)
				wantStatus(t, r, http.StatusOK) // O-5: 200, some browsers refuse a 204 preflight
				if got := r.get("Access-Control-Allow-Origin"); got != origin && got != "*" {
					t.Errorf("preflight Access-Control-Allow-Origin %q, want %q or *", got, origin)
				}
				wantList(t, r, "Access-Control-Allow-Methods", "POST", "HEAD", "PATCH", "OPTIONS", "GET", "DELETE")
				wantList(t, r, "Access-Control-Allow-Headers", tusRequestHeaders...)
				wantHeader(t, r, "Access-Control-Max-Age", "86400")
			}
		}
	})

	t.Run("actual_responses_expose_the_tus_headers", func(t *testing.T) {
		for _, srv := range []*server{sv, one} {
			r := srv.post(t, tus("Upload-Length", "5", "Origin", origin), nil)
			wantStatus(t, r, http.StatusCreated)
			wantList(t, r, "Access-Control-Expose-Headers", tusResponseHeaders...)
			if got := r.get("Access-Control-Allow-Origin"); got != origin && got != "*" {
				t.Errorf("Access-Control-Allow-Origin %q, want %q or *", got, origin)
			}
			url := r.get("Location")
			for _, res := range []*resp{
				srv.do(t, http.MethodHead, url, tus("Origin", origin), nil),
				srv.do(t, http.MethodPatch, url, tus("Origin", origin, "Content-Type", offsetOctet, "Upload-Offset", "0"), []byte("ab")),
				srv.do(t, http.MethodPatch, url, tus("Origin", origin, "Content-Type", offsetOctet, "Upload-Offset", "0"), []byte("ab")), // 409
				srv.do(t, http.MethodOptions, basePath, hdr("Origin", origin), nil),                                                      // discovery
			} {
				wantList(t, res, "Access-Control-Expose-Headers", tusResponseHeaders...)
				if res.get("Access-Control-Allow-Origin") == "" {
					t.Errorf("%s → %d lacks Access-Control-Allow-Origin", res.method, res.status)
				}
			}
		}
	})

	t.Run("with_one_allowed_origin_another_origin_gets_no_allow_origin", func(t *testing.T) {
		const other = "https://evil.example"
		url := one.create(t, 5)
		for _, r := range []*resp{
			preflight(one, url, other),
			one.post(t, tus("Upload-Length", "5", "Origin", other), nil),
			one.do(t, http.MethodHead, url, tus("Origin", other), nil),
			one.do(t, http.MethodOptions, basePath, hdr("Origin", other), nil),
		} {
			wantNoHeader(t, r, "Access-Control-Allow-Origin")
		}
		r := one.post(t, tus("Upload-Length", "5", "Origin", origin), nil)
		wantHeader(t, r, "Access-Control-Allow-Origin", origin)
		wantList(t, r, "Vary", "Origin")
	})
}
