package backends

import (
	"encoding/base64"
	"testing"

	"github.com/tusgate/tusgate/state"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseMetadataIsStrict(t *testing.T) {
	md, err := ParseMetadata("filename " + b64("a b.txt") + ",is_confidential, filetype " + b64("text/plain"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"filename": "a b.txt", "is_confidential": "", "filetype": "text/plain"}
	if len(md) != len(want) {
		t.Fatalf("got %v, want %v", md, want)
	}
	for k, v := range want {
		if md[k] != v {
			t.Errorf("%s = %q, want %q", k, md[k], v)
		}
	}
	for _, bad := range []string{"bad !!!", "k " + b64("x") + ",k " + b64("y"), " ,k", "k a b", "ké " + b64("x")} {
		if _, err := ParseMetadata(bad); err == nil {
			t.Errorf("ParseMetadata(%q) accepted", bad)
		}
	}
}

func TestAttrsForOnePolicy(t *testing.T) {
	for _, c := range []struct{ filename, filetype, ctype, disp string }{
		{"", "", "application/octet-stream", "attachment"},
		{"p.html", "text/html", "text/html", `attachment; filename=p.html`},
		{"x.txt", "text/plainx", "text/plainx", `attachment; filename=x.txt`},
		{"x.txt", "text/plain; charset=utf-8", "text/plain; charset=utf-8", `inline; filename=x.txt`},
		{"a\r\nb.png", "image/png", "image/png", `inline; filename*=utf-8''a%0D%0Ab.png`},
		{"v.webm", "video/webm", "video/webm", `inline; filename=v.webm`},
		{"z", "not a type", "application/octet-stream", `attachment; filename=z`},
	} {
		md := map[string]string{}
		if c.filename != "" {
			md["filename"] = c.filename
		}
		if c.filetype != "" {
			md["filetype"] = c.filetype
		}
		a := AttrsFor(md)
		if a.ContentType != c.ctype || a.ContentDisposition != c.disp {
			t.Errorf("%q %q: got %q %q, want %q %q", c.filename, c.filetype, a.ContentType, a.ContentDisposition, c.ctype, c.disp)
		}
	}
	if a := AttrsOf(&state.Upload{Metadata: "broken !!"}); a.ContentDisposition != "attachment" || len(a.Metadata) != 0 {
		t.Errorf("an unparsable record gets %+v, want the defaults", a)
	}
}

func TestProgressMergeAndChange(t *testing.T) {
	p := Progress{Offset: 5, Parts: []state.Part{{Number: 1}}, Handle: map[string]string{"a": "1"}}
	p.Merge(Progress{Offset: 9, Parts: []state.Part{{Number: 2}}, Handle: map[string]string{"a": "", "b": "2"}})
	ch := p.Change()
	if ch.Offset != 9 || len(ch.Parts) != 2 || ch.Handle["a"] != "" || ch.Handle["b"] != "2" || len(ch.Handle) != 2 {
		t.Fatalf("merged change %+v", ch)
	}
	if ch.Length != nil || ch.ExpiresAt != nil || ch.Finished {
		t.Fatalf("progress became a change of length, expiry or completion: %+v", ch)
	}
}
