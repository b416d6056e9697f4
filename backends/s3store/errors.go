package s3store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/tusgate/tusgate/backends"
)

// ErrPresignDisabled is returned by PresignGet when neither the caller nor
// the presign option gave a lifetime.
var ErrPresignDisabled = errors.New("s3store: presigned URLs are not enabled")

// throttleBackoff is the wait suggested to clients when S3 throttles; S3
// sends no Retry-After, and its guidance for SlowDown is to back off for
// seconds, not milliseconds.
const throttleBackoff = 5 * time.Second

// Error is an S3 failure classified against the backends sentinels.
type Error struct {
	Op   string // the S3 operation, e.g. "UploadPart"
	Code string // S3 error code, when the service answered
	// Kind is a backends sentinel (ErrNotFound, ErrUnavailable, ErrTooLarge)
	// or nil when the failure has no tus meaning of its own.
	Kind error
	Err  error
}

func (e *Error) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("s3store: %s: %s: %v", e.Op, e.Code, e.Err)
	}
	return fmt.Sprintf("s3store: %s: %v", e.Op, e.Err)
}

// Unwrap exposes both the sentinel and the cause to errors.Is / errors.As.
func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// ThrottleError is an Error for a throttled request; it tells the client how
// long to wait.
type ThrottleError struct {
	Cause *Error
	After time.Duration
}

func (e *ThrottleError) Error() string { return e.Cause.Error() }

// Unwrap exposes the classified error (and through it ErrUnavailable).
func (e *ThrottleError) Unwrap() error { return e.Cause }

// RetryAfter implements backends.RetryAfter.
func (e *ThrottleError) RetryAfter() time.Duration { return e.After }

var (
	notFoundCodes = map[string]bool{"NoSuchUpload": true, "NoSuchKey": true, "NotFound": true}
	tooLargeCodes = map[string]bool{"EntityTooLarge": true, "MaxMessageLengthExceeded": true}
	throttleCodes = map[string]bool{
		"SlowDown": true, "Throttling": true, "ThrottlingException": true, "ThrottledException": true,
		"RequestThrottled": true, "RequestThrottledException": true, "TooManyRequests": true,
		"TooManyRequestsException": true, "RequestLimitExceeded": true, "BandwidthLimitExceeded": true,
	}
	unavailableCodes = map[string]bool{
		"InternalError": true, "ServiceUnavailable": true, "RequestTimeout": true,
		"XMinioServerNotInitialized": true,
	}
)

// classify wraps err from S3 operation op. It returns nil for nil.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	e := &Error{Op: op, Err: err}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		e.Code = apiErr.ErrorCode()
	}
	status := 0
	var httpErr interface{ HTTPStatusCode() int }
	if errors.As(err, &httpErr) {
		status = httpErr.HTTPStatusCode()
	}
	switch {
	case errors.Is(err, context.Canceled):
		// The caller gave up (lease lost, client gone): not the store's fault.
	case notFoundCodes[e.Code] || (status == 404 && e.Code != "NoSuchBucket"):
		e.Kind = backends.ErrNotFound
	case tooLargeCodes[e.Code]:
		e.Kind = backends.ErrTooLarge
	case throttleCodes[e.Code] || status == 429:
		e.Kind = backends.ErrUnavailable
		return &ThrottleError{Cause: e, After: throttleBackoff}
	case unavailableCodes[e.Code] || status >= 500 || isNetwork(err):
		e.Kind = backends.ErrUnavailable
	}
	return e
}

// isNetwork reports failures to reach the store at all.
func isNetwork(err error) bool {
	var sendErr *smithyhttp.RequestSendError
	var netErr net.Error
	return errors.As(err, &sendErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded)
}

// isNotFound is the errors.Is shortcut used for "missing is fine" cases.
func isNotFound(err error) bool { return errors.Is(err, backends.ErrNotFound) }
