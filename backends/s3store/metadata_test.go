package s3store

import (
	"encoding/base64"
	"mime"
	"strings"
	"testing"

	"github.com/tusgate/tusgate/state"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestAttrsFromMetadata(t *testing.T) {
	a := attrsFor(&state.Upload{Metadata: "filename " + b64("résumé 2024.pdf") + ",filetype " + b64("application/pdf") +
		",Custom+Key " + b64("x") + ",note " + b64("naïve\ttext ") + ",blob " + b64("\xff\xfe")})
	if a.ContentType != "application/pdf" {
		t.Errorf("content type %q", a.ContentType)
	}
	_, params, err := mime.ParseMediaType(a.ContentDisposition)
	if err != nil || params["filename"] != "résumé 2024.pdf" || !strings.HasPrefix(a.ContentDisposition, "inline") {
		t.Errorf("content disposition %q (%v, %v)", a.ContentDisposition, params, err)
	}
	if a.Metadata["custom_key"] != "x" || a.Metadata["filetype"] != "application/pdf" {
		t.Errorf("metadata %v", a.Metadata)
	}
	dec := new(mime.WordDecoder)
	note, err := dec.DecodeHeader(a.Metadata["note"])
	if err != nil || note != "naïve text" {
		t.Errorf("note %q decodes to %q (%v)", a.Metadata["note"], note, err)
	}
	if _, ok := a.Metadata["blob"]; ok {
		t.Error("binary value kept as metadata")
	}
	for k, v := range a.Metadata {
		for _, r := range k + v {
			if r < 0x20 || r >= 0x7f {
				t.Errorf("metadata %q=%q is not header-safe", k, v)
			}
		}
	}
}

func TestAttrsDefaultsAndInvalidType(t *testing.T) {
	a := attrsFor(&state.Upload{Metadata: "filetype " + b64("not a type")})
	// One policy for every download path: no name, no known type is an
	// attachment of application/octet-stream.
	if a.ContentType != "application/octet-stream" || a.ContentDisposition != "attachment" {
		t.Errorf("%+v", a)
	}
}

func TestMetadataIsCappedAt2KiB(t *testing.T) {
	var pairs []string
	for i := range 40 {
		pairs = append(pairs, string(rune('a'+i%26))+strings.Repeat("k", i)+" "+b64(strings.Repeat("v", 100)))
	}
	a := attrsFor(&state.Upload{Metadata: strings.Join(pairs, ",")})
	total := 0
	for k, v := range a.Metadata {
		total += len(k) + len(v)
	}
	if total > maxUserMetadata || len(a.Metadata) == 0 {
		t.Fatalf("%d pairs, %d bytes", len(a.Metadata), total)
	}
}
