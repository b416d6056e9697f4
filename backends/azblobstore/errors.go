package azblobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/tusgate/tusgate/backends"
)

// ErrPresignDisabled is returned by PresignGet when neither the caller nor
// the presign option gave a lifetime.
var ErrPresignDisabled = errors.New("azblobstore: presigned URLs are not enabled")

// throttleBackoff is the wait suggested when Azure throttles without a
// Retry-After of its own.
const throttleBackoff = 5 * time.Second

// Error is an Azure failure classified against the backends sentinels.
type Error struct {
	Op     string // the operation, e.g. "StageBlock"
	Code   string // the service's error code, when it answered
	Status int
	Kind   error // a backends sentinel, or nil
	Err    error
	// After is the wait a throttled request should observe (0: none).
	After time.Duration
}

func (e *Error) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("azblobstore: %s: %s", e.Op, e.Code)
	}
	return fmt.Sprintf("azblobstore: %s: %v", e.Op, e.Err)
}

// Unwrap exposes both the sentinel and the cause.
func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// throttled carries the Retry-After of a throttled request.
type throttled struct{ e *Error }

func (t throttled) Error() string { return t.e.Error() }

// RetryAfter implements backends.RetryAfter.
func (t throttled) RetryAfter() time.Duration { return t.e.After }

func (t throttled) Unwrap() error { return t.e }

// classify wraps err from operation op; nil stays nil.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	e := &Error{Op: op, Err: err}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		e.Code, e.Status = re.ErrorCode, re.StatusCode
	}
	switch {
	case errors.Is(err, context.Canceled):
	case e.Code == string(bloberror.BlobNotFound) || (e.Status == 404 && e.Code != string(bloberror.ContainerNotFound)):
		e.Kind = backends.ErrNotFound
	case e.Code == string(bloberror.RequestBodyTooLarge) || e.Code == string(bloberror.BlockCountExceedsLimit) || e.Status == 413:
		e.Kind = backends.ErrTooLarge
	case e.Status == 429 || e.Status == 503 || e.Code == string(bloberror.ServerBusy):
		e.Kind = backends.ErrUnavailable
		e.After = throttleBackoff
		if re != nil && re.RawResponse != nil {
			if s, err := strconv.Atoi(re.RawResponse.Header.Get("Retry-After")); err == nil && s > 0 && s < 3600 {
				e.After = time.Duration(s) * time.Second
			}
		}
		return throttled{e}
	case e.Status >= 500 || isNetwork(err):
		e.Kind = backends.ErrUnavailable
	}
	return e
}

func isNetwork(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded)
}

func isNotFound(err error) bool { return errors.Is(err, backends.ErrNotFound) }
