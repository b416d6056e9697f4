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
	"github.com/tusgate/tusgate/test/backendtest"
)

func withStatus(code int, err error) error {
	return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}}, Err: err}
}

func TestClassify(t *testing.T) {
	api := func(code string) error { return &smithy.GenericAPIError{Code: code, Message: "m"} }
	cases := []struct {
		name  string
		err   error
		kind  error
		after time.Duration
	}{
		{"no such upload", withStatus(404, api("NoSuchUpload")), backends.ErrNotFound, 0},
		{"no such key", withStatus(404, api("NoSuchKey")), backends.ErrNotFound, 0},
		{"head 404", withStatus(404, api("NotFound")), backends.ErrNotFound, 0},
		{"too large", withStatus(400, api("EntityTooLarge")), backends.ErrTooLarge, 0},
		{"slow down", withStatus(503, api("SlowDown")), backends.ErrUnavailable, throttleBackoff},
		{"too many requests", withStatus(429, errors.New("html")), backends.ErrUnavailable, throttleBackoff},
		{"internal", withStatus(500, api("InternalError")), backends.ErrUnavailable, 0},
		{"bad gateway", withStatus(502, errors.New("html")), backends.ErrUnavailable, 0},
		{"network", &smithyhttp.RequestSendError{Err: errors.New("connection refused")}, backends.ErrUnavailable, 0},
		{"timeout", context.DeadlineExceeded, backends.ErrUnavailable, 0},
		{"access denied", withStatus(403, api("AccessDenied")), nil, 0},
		{"cancelled", context.Canceled, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			backendtest.Classified(t, c.err, classify("Op", c.err), c.kind, c.after)
		})
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
