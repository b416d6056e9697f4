package azblobstore

import (
	"context"
	"errors"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/tusgate/tusgate/backends"
)

// ErrPresignDisabled is returned by PresignGet when neither the caller nor
// the presign option gave a lifetime.
var ErrPresignDisabled = errors.New("azblobstore: presigned URLs are not enabled")

// throttleBackoff is the wait suggested when Azure throttles without a
// Retry-After of its own.
const throttleBackoff = backends.ThrottleBackoff

// Error is an Azure failure classified against the backends sentinels.
type Error = backends.StoreError

// classify wraps err from operation op; nil stays nil.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	e := &Error{Store: "azblobstore", Op: op, Err: err}
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
		var h http.Header
		if re != nil && re.RawResponse != nil {
			h = re.RawResponse.Header
		}
		return backends.ThrottledBy(e, h)
	case e.Status >= 500 || backends.IsNetwork(err):
		e.Kind = backends.ErrUnavailable
	}
	return e
}

func isNotFound(err error) bool { return errors.Is(err, backends.ErrNotFound) }
