package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

// tusdShape is a pre-create request as tusd v2 sends it; tusgate's must
// decode to the same document.
const tusdShape = `{"Type":"pre-create","Event":{"Upload":{"ID":"","Size":11,"SizeIsDeferred":false,"Offset":0,
"MetaData":{"filename":"hello.txt"},"IsPartial":false,"IsFinal":false,"PartialUploads":null,"Storage":null},
"HTTPRequest":{"Method":"POST","URI":"/files/","RemoteAddr":"127.0.0.1:5000","Header":{"Tus-Resumable":["1.0.0"]}}}}`

func TestRequestHasTusdShape(t *testing.T) {
	req := Request{Type: PreCreate, Event: Event{
		Upload:      Upload{Size: 11, MetaData: map[string]string{"filename": "hello.txt"}},
		HTTPRequest: HTTPRequest{Method: "POST", URI: "/files/", RemoteAddr: "127.0.0.1:5000", Header: http.Header{"Tus-Resumable": {"1.0.0"}}},
	}}
	got, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(tusdShape), &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("request JSON differs from tusd's shape:\n got %s\nwant %s", got, tusdShape)
	}
}

func receiver(t *testing.T, h http.HandlerFunc) *HTTPReceiver {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &HTTPReceiver{Endpoint: srv.URL, Timeout: 2 * time.Second, ForwardHeaders: []string{"traceparent"}}
}

func TestHTTPReceiverRoundTrip(t *testing.T) {
	var seen Request
	var trace string
	r := receiver(t, func(w http.ResponseWriter, req *http.Request) {
		trace = req.Header.Get("Traceparent")
		if err := json.NewDecoder(req.Body).Decode(&seen); err != nil {
			t.Errorf("decode: %v", err)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = io.WriteString(w, `{"RejectUpload":true,"HTTPResponse":{"StatusCode":403,"Body":"no","Header":{"X-Why":"quota"}},"ChangeFileInfo":{"ID":"abc"}}`)
	})
	res, err := r.Invoke(context.Background(), Request{Type: PreCreate, Event: Event{
		Upload:      Upload{ID: "x", Size: 3},
		HTTPRequest: HTTPRequest{Method: "POST", Header: http.Header{"Traceparent": {"00-abc-def-01"}, "Cookie": {"secret"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.RejectUpload || res.HTTPResponse.StatusCode != 403 || res.HTTPResponse.Header["X-Why"] != "quota" || res.ChangeFileInfo.ID != "abc" {
		t.Fatalf("answer decoded as %+v", res)
	}
	if seen.Type != PreCreate || seen.Event.Upload.ID != "x" || seen.Event.Upload.Size != 3 {
		t.Fatalf("receiver saw %+v", seen)
	}
	if trace != "00-abc-def-01" {
		t.Fatalf("forwarded traceparent = %q", trace)
	}
}

func TestHTTPReceiverRefusesBadAnswers(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"status 500": func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) },
		"not json": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, "{}")
		},
		"too large": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"HTTPResponse":{"Body":"`+strings.Repeat("a", DefaultSizeLimit)+`"}}`)
		},
		"malformed": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"RejectUpload":`)
		},
		"too slow": func(w http.ResponseWriter, req *http.Request) {
			select {
			case <-req.Context().Done():
			case <-time.After(time.Second):
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := receiver(t, h)
			r.Timeout = 300 * time.Millisecond
			if _, err := r.Invoke(context.Background(), Request{Type: PostFinish}); !errors.Is(err, ErrReceiver) {
				t.Fatalf("err = %v, want ErrReceiver", err)
			}
		})
	}
}

func TestParseTypes(t *testing.T) {
	got, err := ParseTypes("pre-create, post-finish,pre-create")
	if err != nil || !reflect.DeepEqual(got, []Type{PreCreate, PostFinish}) {
		t.Fatalf("ParseTypes = %v, %v", got, err)
	}
	if _, err := ParseTypes("pre-create,post-everything"); err == nil {
		t.Fatal("unknown event accepted")
	}
	if !PreFinish.Blocking() || PostFinish.Blocking() {
		t.Fatal("Blocking is wrong")
	}
}
