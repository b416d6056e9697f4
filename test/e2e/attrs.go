package e2e

import (
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
)

// DownloadHeaderCases are uploads whose metadata exercise the attribute
// policy: types shown inline and as attachments, a name with quotes and
// non-ASCII letters, one with CR LF, no metadata at all, and a type that does not parse.
var DownloadHeaderCases = []struct {
	Name, Filename, Filetype string
	// Type and Disposition are what every download path must answer.
	Type, Disposition string
}{
	{"html", "page.html", "text/html", "text/html", `attachment; filename=page.html`},
	{"png", `a "quoted" name.png`, "image/png", "image/png", `inline; filename="a \"quoted\" name.png"`},
	{"video", "clip.mp4", "video/mp4", "video/mp4", `inline; filename=clip.mp4`},
	{"nonascii", "résumé.pdf", "application/pdf", "application/pdf", `inline; filename*=utf-8''r%C3%A9sum%C3%A9.pdf`},
	{"crlf", "line\r\nX-Injected: 1.txt", "text/plain", "text/plain", `inline; filename*=utf-8''line%0D%0AX-Injected%3A%201.txt`},
	{"nothing", "", "", "application/octet-stream", "attachment"},
	{"badtype", "x.bin", "not a type", "application/octet-stream", `attachment; filename=x.bin`},
}

// CheckDownloadHeaders uploads each case through proxied (a gateway that
// streams downloads) and downloads it from there and through redirecting (a
// gateway on the same store and state with --download-redirect, whose 302
// is followed to the store's presigned URL). Both answers must carry the
// case's Content-Type and Content-Disposition: one policy for both paths.
func CheckDownloadHeaders(t *testing.T, proxied, redirecting string) {
	t.Helper()
	for _, c := range DownloadHeaderCases {
		t.Run(c.Name, func(t *testing.T) {
			var pairs []string
			for k, v := range map[string]string{"filename": c.Filename, "filetype": c.Filetype} {
				if v != "" {
					pairs = append(pairs, k+" "+base64.StdEncoding.EncodeToString([]byte(v)))
				}
			}
			var meta http.Header
			if len(pairs) > 0 {
				meta = http.Header{"Upload-Metadata": {strings.Join(pairs, ",")}}
			}
			data := []byte("bytes of " + c.Name)
			url := Create(t, proxied, int64(len(data)), meta)
			if got := Patch(t, url, 0, data); got != int64(len(data)) {
				t.Fatalf("PATCH: offset %d, want %d", got, len(data))
			}
			id := url[strings.LastIndex(url, "/")+1:]
			base := strings.TrimSuffix(redirecting, "/")
			for path, u := range map[string]string{"proxied": url, "presigned": base + "/" + id} {
				res := Do(t, Req(t, http.MethodGet, u, nil)) // the default client follows the 302
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK || string(body) != string(data) {
					t.Fatalf("%s GET %s: status %d, body %q", path, res.Request.URL, res.StatusCode, body)
				}
				if path == "presigned" && strings.HasPrefix(res.Request.URL.String(), base) {
					t.Fatalf("GET through the redirecting gateway was not redirected to the store: %s", res.Request.URL)
				}
				if got := res.Header.Get("Content-Type"); got != c.Type {
					t.Errorf("%s Content-Type %q, want %q", path, got, c.Type)
				}
				if got := res.Header.Get("Content-Disposition"); got != c.Disposition {
					t.Errorf("%s Content-Disposition %q, want %q", path, got, c.Disposition)
				}
			}
		})
	}
}
