package protocol

import (
	"net/http"
	"strings"
	"testing"
)

func (s *suite) location(t *testing.T) {
	sv := s.start(t, defaultConfig())
	cfg := defaultConfig()
	cfg.BehindProxy = true
	proxied := s.start(t, cfg)

	t.Run("E19_CR7_location_is_absolute_on_the_host_the_client_used", func(t *testing.T) {
		r := sv.post(t, tus("Upload-Length", "1"), nil)
		wantStatus(t, r, http.StatusCreated)
		loc := r.get("Location")
		if want := sv.srv.URL + basePath + idOf(t, loc); loc != want {
			t.Errorf("Location %q, want %q", loc, want)
		}
	})

	t.Run("E19_forwarding_headers_are_ignored_unless_behind_a_proxy", func(t *testing.T) {
		for _, h := range []http.Header{
			tus("Upload-Length", "1", "X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "https"),
			tus("Upload-Length", "1", "Forwarded", "for=192.0.2.1;host=evil.example;proto=https"),
		} {
			r := sv.post(t, h, nil)
			wantStatus(t, r, http.StatusCreated)
			if loc := r.get("Location"); !strings.HasPrefix(loc, sv.srv.URL+basePath) {
				t.Errorf("Location %q trusts forwarding headers of a direct client", loc)
			}
		}
	})

	t.Run("E19_behind_a_proxy_x_forwarded_host_and_proto_are_honoured", func(t *testing.T) {
		r := proxied.post(t, tus("Upload-Length", "1", "X-Forwarded-Host", "uploads.example", "X-Forwarded-Proto", "https"), nil)
		wantStatus(t, r, http.StatusCreated)
		loc := r.get("Location")
		if want := "https://uploads.example" + basePath + idOf(t, loc); loc != want {
			t.Errorf("Location %q, want %q", loc, want)
		}
		// The upload is reachable through the real address too.
		proxied.wantOffset(t, pathOf(t, loc), 0)
	})

	t.Run("E19_behind_a_proxy_forwarded_is_honoured_and_preferred", func(t *testing.T) {
		r := proxied.post(t, tus("Upload-Length", "1", "Forwarded", `for=192.0.2.1;host="fwd.example:8443";proto=https`,
			"X-Forwarded-Host", "other.example"), nil)
		wantStatus(t, r, http.StatusCreated)
		loc := r.get("Location")
		if want := "https://fwd.example:8443" + basePath + idOf(t, loc); loc != want {
			t.Errorf("Location %q, want %q", loc, want)
		}
	})

	t.Run("E19_behind_a_proxy_a_malformed_forwarded_host_is_ignored", func(t *testing.T) {
		for _, h := range [][]string{
			{"X-Forwarded-Host", "a b/x"},
			{"Forwarded", `host="evil.example/path?q";proto=https`},
		} {
			r := proxied.post(t, tus("Upload-Length", "1", h[0], h[1]), nil)
			wantStatus(t, r, http.StatusCreated)
			if loc := r.get("Location"); !strings.HasPrefix(loc, proxied.srv.URL+basePath) && !strings.HasPrefix(loc, "https"+strings.TrimPrefix(proxied.srv.URL, "http")+basePath) {
				t.Errorf("%s: %q gave Location %q, want the real host", h[0], h[1], loc)
			}
		}
	})

	t.Run("E19_behind_a_proxy_without_forwarding_headers_the_host_is_used", func(t *testing.T) {
		r := proxied.post(t, tus("Upload-Length", "1"), nil)
		wantStatus(t, r, http.StatusCreated)
		if loc := r.get("Location"); !strings.HasPrefix(loc, proxied.srv.URL+basePath) {
			t.Errorf("Location %q, want it under %s", loc, proxied.srv.URL+basePath)
		}
	})

	t.Run("trailing_slash_post_and_options_work_on_both_base_paths", func(t *testing.T) {
		for _, target := range []string{"/files", "/files/"} {
			r := sv.do(t, http.MethodPost, target, tus("Upload-Length", "2"), nil)
			wantStatus(t, r, http.StatusCreated)
			idOf(t, r.get("Location"))
			o := sv.do(t, http.MethodOptions, target, nil, nil)
			wantStatus(t, o, http.StatusOK)
			wantHeader(t, o, "Tus-Version", tusVersion)
		}
	})
}
