package protocol

import (
	"encoding/base64"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"testing"
)

// meta builds an Upload-Metadata value from name/value pairs.
func meta(kv ...string) string {
	var pairs []string
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, kv[i]+" "+base64.StdEncoding.EncodeToString([]byte(kv[i+1])))
	}
	return strings.Join(pairs, ",")
}

func (s *suite) download(t *testing.T) {
	sv := s.start(t, defaultConfig())
	data := payload(10_000, 77)
	url := sv.upload(t, data)

	t.Run("get_returns_the_whole_upload", func(t *testing.T) {
		r := sv.do(t, http.MethodGet, url, nil, nil)
		wantStatus(t, r, http.StatusOK)
		wantHeader(t, r, "Content-Length", "10000")
		if string(r.body) != string(data) {
			t.Fatal("GET body differs from the upload")
		}
	})

	t.Run("get_range_is_206_with_the_right_bytes", func(t *testing.T) {
		for _, c := range []struct {
			rng        string
			start, end int // inclusive
		}{{"bytes=0-0", 0, 0}, {"bytes=100-199", 100, 199}, {"bytes=9990-", 9990, 9999}, {"bytes=-10", 9990, 9999}, {"bytes=5000-20000", 5000, 9999}} {
			r := sv.do(t, http.MethodGet, url, hdr("Range", c.rng), nil)
			wantStatus(t, r, http.StatusPartialContent)
			wantHeader(t, r, "Content-Range", fmt.Sprintf("bytes %d-%d/%d", c.start, c.end, len(data)))
			if string(r.body) != string(data[c.start:c.end+1]) {
				t.Errorf("Range %s: wrong bytes", c.rng)
			}
		}
		r := sv.do(t, http.MethodGet, url, hdr("Range", "bytes=20000-"), nil)
		wantStatus(t, r, http.StatusRequestedRangeNotSatisfiable)
	})

	t.Run("get_content_type_comes_from_a_valid_filetype", func(t *testing.T) {
		for _, c := range []struct{ filetype, want string }{
			{"image/png", "image/png"},
			{"text/plain; charset=utf-8", "text/plain; charset=utf-8"},
			{"not a type", "application/octet-stream"},
			{"", "application/octet-stream"},
		} {
			var u string
			if c.filetype == "" {
				u = sv.upload(t, []byte("x"))
			} else {
				u = sv.upload(t, []byte("x"), "Upload-Metadata", meta("filetype", c.filetype))
			}
			r := sv.do(t, http.MethodGet, u, nil, nil)
			wantStatus(t, r, http.StatusOK)
			wantHeader(t, r, "Content-Type", c.want)
			wantHeader(t, r, "X-Content-Type-Options", "nosniff")
		}
	})

	t.Run("get_content_disposition_is_attachment_with_a_safely_quoted_filename", func(t *testing.T) {
		for _, name := range []string{
			"report.pdf", `say "hi".txt`, "semi;colon.txt", "line\r\nX-Injected: 1.txt", "naïve café.txt", "日本.txt", `back\slash`,
		} {
			u := sv.upload(t, []byte("x"), "Upload-Metadata", meta("filename", name, "filetype", "text/html"))
			r := sv.do(t, http.MethodGet, u, nil, nil)
			wantStatus(t, r, http.StatusOK)
			wantNoHeader(t, r, "X-Injected")
			cd := r.get("Content-Disposition")
			if strings.ContainsAny(cd, "\r\n") {
				t.Errorf("Content-Disposition %q contains CR/LF", cd)
			}
			kind, params, err := mime.ParseMediaType(cd)
			if err != nil {
				t.Errorf("filename %q: Content-Disposition %q does not parse: %v", name, cd, err)
				continue
			}
			if kind != "attachment" {
				t.Errorf("filename %q with filetype text/html: disposition %q, want attachment", name, kind)
			}
			if params["filename"] != name {
				t.Errorf("Content-Disposition %q names %q, want %q", cd, params["filename"], name)
			}
		}
	})

	t.Run("get_of_unfinished_upload_is_409", func(t *testing.T) {
		u := sv.create(t, 10)
		sv.patchOK(t, u, 0, []byte("abc"))
		wantStatus(t, sv.do(t, http.MethodGet, u, nil, nil), http.StatusConflict)
		d := sv.createDeferred(t)
		wantStatus(t, sv.do(t, http.MethodGet, d, nil, nil), http.StatusConflict)
	})

	t.Run("get_of_unknown_upload_is_404", func(t *testing.T) {
		wantStatus(t, sv.do(t, http.MethodGet, basePath+"0123456789abcdef0123456789abcdef", nil, nil), http.StatusNotFound)
	})
}
