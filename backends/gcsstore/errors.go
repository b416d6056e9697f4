package gcsstore

import (
	"context"
	"errors"
	"net/http"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"

	"github.com/tusgate/tusgate/backends"
)

// ErrPresignDisabled is returned by PresignGet when neither the caller nor
// the presign option gave a lifetime, or nothing can sign.
var ErrPresignDisabled = errors.New("gcsstore: signed URLs are not enabled")

// throttleBackoff is the wait suggested when Cloud Storage throttles
// without a Retry-After of its own.
const throttleBackoff = backends.ThrottleBackoff

// Error is a Cloud Storage failure classified against the backends sentinels.
type Error = backends.StoreError

// classify wraps err from operation op; nil stays nil.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	e := &Error{Store: "gcsstore", Op: op, Err: err}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		e.Status = ge.Code
	}
	switch {
	case errors.Is(err, context.Canceled):
		// The caller gave up (lease lost, client gone): not the store's fault.
	case errors.Is(err, storage.ErrBucketNotExist):
		// A configuration error, not a missing upload.
	case errors.Is(err, storage.ErrObjectNotExist) || e.Status == 404:
		e.Kind = backends.ErrNotFound
	case e.Status == 413:
		e.Kind = backends.ErrTooLarge
	case e.Status == 429 || e.Status == 503:
		e.Kind = backends.ErrUnavailable
		var h http.Header
		if ge != nil {
			h = ge.Header
		}
		return backends.ThrottledBy(e, h)
	case e.Status >= 500 || backends.IsNetwork(err):
		e.Kind = backends.ErrUnavailable
	}
	return e
}

func isNotFound(err error) bool { return errors.Is(err, backends.ErrNotFound) }
