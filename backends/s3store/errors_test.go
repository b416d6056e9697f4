package s3store

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/tusgate/tusgate/backends"
)

func withStatus(code int, err error) error {
	return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}}, Err: err}
}

func TestClassify(t *testing.T) {
	api := func(code string) error { return &smithy.GenericAPIError{Code: code, Message: "m"} }
	cases := []struct {
		name string
		err  error
		kind error
	}{
		{"no such upload", withStatus(404, api("NoSuchUpload")), backends.ErrNotFound},
		{"no such key", withStatus(404, api("NoSuchKey")), backends.ErrNotFound},
		{"head 404", withStatus(404, api("NotFound")), backends.ErrNotFound},
		{"too large", withStatus(400, api("EntityTooLarge")), backends.ErrTooLarge},
		{"slow down", withStatus(503, api("SlowDown")), backends.ErrUnavailable},
		{"internal", withStatus(500, api("InternalError")), backends.ErrUnavailable},
		{"bad gateway", withStatus(502, errors.New("html")), backends.ErrUnavailable},
		{"network", &smithyhttp.RequestSendError{Err: errors.New("connection refused")}, backends.ErrUnavailable},
		{"timeout", context.DeadlineExceeded, backends.ErrUnavailable},
		{"access denied", withStatus(403, api("AccessDenied")), nil},
		{"cancelled", context.Canceled, nil},
	}
	for _, c := range cases {
		err := classify("Op", c.err)
		if !errors.Is(err, c.err) {
			t.Errorf("%s: cause lost: %v", c.name, err)
		}
		for _, k := range []error{backends.ErrNotFound, backends.ErrTooLarge, backends.ErrUnavailable} {
			if errors.Is(err, k) != (k == c.kind) {
				t.Errorf("%s: errors.Is(%v) = %v", c.name, k, errors.Is(err, k))
			}
		}
	}
	if classify("Op", nil) != nil {
		t.Error("nil error classified as failure")
	}
}

func TestThrottlingCarriesRetryAfter(t *testing.T) {
	err := classify("UploadPart", withStatus(503, &smithy.GenericAPIError{Code: "SlowDown"}))
	var ra backends.RetryAfter
	if !errors.As(err, &ra) || ra.RetryAfter() < time.Second {
		t.Fatalf("%v: no RetryAfter of seconds", err)
	}
	if !errors.Is(err, backends.ErrUnavailable) {
		t.Fatalf("%v is not ErrUnavailable", err)
	}
	if errors.As(classify("UploadPart", withStatus(500, &smithy.GenericAPIError{Code: "InternalError"})), &ra) {
		t.Fatal("a plain 500 claims a RetryAfter")
	}
}
