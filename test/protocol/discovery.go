package protocol

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/tusgate/tusgate/backends"
)

// allExtensions is what the gateway offers over a backend that can
// concatenate, with expiry configured.
var allExtensions = []string{"creation", "creation-with-upload", "creation-defer-length", "termination",
	"expiration", "checksum", "checksum-trailer", "concatenation", "concatenation-unfinished"}

func (s *suite) discovery(t *testing.T) {
	sv := s.start(t, defaultConfig())

	t.Run("E1_options_without_tus_headers_is_200_with_version_extensions_max_size_and_algorithms", func(t *testing.T) {
		for _, target := range []string{basePath, strings.TrimSuffix(basePath, "/")} {
			r := sv.do(t, http.MethodOptions, target, nil, nil)
			wantStatus(t, r, http.StatusOK) // O-5: 200, not 204
			wantHeader(t, r, "Tus-Version", tusVersion)
			wantList(t, r, "Tus-Extension", allExtensions...)
			wantHeader(t, r, "Tus-Max-Size", strconv.Itoa(maxSize))
			wantList(t, r, "Tus-Checksum-Algorithm", "sha1")
		}
	})

	t.Run("O2_options_on_an_upload_url_also_describes_the_server", func(t *testing.T) {
		url := sv.create(t, 3)
		r := sv.do(t, http.MethodOptions, url, nil, nil)
		wantStatus(t, r, http.StatusOK)
		wantHeader(t, r, "Tus-Version", tusVersion)
		wantList(t, r, "Tus-Extension", "creation")
	})

	t.Run("E2_O3_options_ignores_an_unsupported_tus_resumable", func(t *testing.T) {
		for _, v := range []string{"0.0.1", "2.0.0", "garbage"} {
			r := sv.do(t, http.MethodOptions, basePath, hdr("Tus-Resumable", v), nil)
			wantStatus(t, r, http.StatusOK)
			wantHeader(t, r, "Tus-Version", tusVersion)
		}
	})

	t.Run("H3_H4_tus_version_and_extension_are_plain_comma_lists", func(t *testing.T) {
		r := sv.do(t, http.MethodOptions, basePath, nil, nil)
		for _, name := range []string{"Tus-Version", "Tus-Extension", "Tus-Checksum-Algorithm"} {
			v := r.get(name)
			if v == "" {
				t.Errorf("%s is empty", name)
			}
			for _, item := range strings.Split(v, ",") {
				if item == "" || strings.TrimSpace(item) != item {
					t.Errorf("%s = %q has an empty or padded item", name, v)
				}
			}
		}
	})

	// H-5: without --max-size the only hard limit is the backend's own
	// (S3: 5 TiB); Tus-Max-Size is that limit, and absent when there is none.
	t.Run("H4_without_max_size_no_tus_max_size_header", func(t *testing.T) {
		cfg := defaultConfig()
		cfg.MaxSize = 0
		unlimited := s.start(t, cfg)
		r := unlimited.do(t, http.MethodOptions, basePath, nil, nil)
		wantStatus(t, r, http.StatusOK)
		if limit := backends.CapabilitiesOf(unlimited.env.Backend).MaxObjectSize; limit > 0 {
			wantHeader(t, r, "Tus-Max-Size", strconv.FormatInt(limit, 10))
		} else {
			wantNoHeader(t, r, "Tus-Max-Size")
		}
	})

	t.Run("EX1_without_expiry_expiration_is_not_advertised", func(t *testing.T) {
		cfg := defaultConfig()
		cfg.Expiration = 0
		never := s.start(t, cfg)
		r := never.do(t, http.MethodOptions, basePath, nil, nil)
		for _, e := range strings.Split(r.get("Tus-Extension"), ",") {
			if e == "expiration" {
				t.Errorf("Tus-Extension %q offers expiration with expiry disabled", r.get("Tus-Extension"))
			}
		}
		url := never.create(t, 4)
		wantNoHeader(t, never.head(t, url), "Upload-Expires")
	})
}
