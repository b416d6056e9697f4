package protocol

import (
	"net/http"
	"testing"
)

func (s *suite) misc(t *testing.T) {
	sv := s.start(t, defaultConfig())

	t.Run("healthz_and_readyz_are_200", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/readyz"} {
			wantStatus(t, sv.do(t, http.MethodGet, p, nil, nil), http.StatusOK)
		}
	})

	t.Run("unknown_path_is_404", func(t *testing.T) {
		wantStatus(t, sv.do(t, http.MethodGet, "/nothing-here", nil, nil), http.StatusNotFound)
	})

	t.Run("nosniff_on_every_response", func(t *testing.T) {
		wantHeader(t, sv.do(t, http.MethodOptions, basePath, nil, nil), "X-Content-Type-Options", "nosniff")
		wantHeader(t, sv.head(t, basePath+"0123456789abcdef0123456789abcdef"), "X-Content-Type-Options", "nosniff")
	})
}
