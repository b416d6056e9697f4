package s3store

import (
	"context"
	"errors"

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
const throttleBackoff = backends.ThrottleBackoff

// Error is an S3 failure classified against the backends sentinels.
type Error = backends.StoreError

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
	e := &Error{Store: "s3store", Op: op, Err: err}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		e.Code = apiErr.ErrorCode()
	}
	var httpErr interface{ HTTPStatusCode() int }
	if errors.As(err, &httpErr) {
		e.Status = httpErr.HTTPStatusCode()
	}
	switch {
	case errors.Is(err, context.Canceled):
		// The caller gave up (lease lost, client gone): not the store's fault.
	case notFoundCodes[e.Code] || (e.Status == 404 && e.Code != "NoSuchBucket"):
		e.Kind = backends.ErrNotFound
	case tooLargeCodes[e.Code]:
		e.Kind = backends.ErrTooLarge
	case throttleCodes[e.Code] || e.Status == 429:
		e.Kind, e.After = backends.ErrUnavailable, throttleBackoff
		return backends.Throttled(e)
	case unavailableCodes[e.Code] || e.Status >= 500 || isNetwork(err):
		e.Kind = backends.ErrUnavailable
	}
	return e
}

// isNetwork reports failures to reach the store at all, also those the
// SDK reports as failing to send.
func isNetwork(err error) bool {
	var sendErr *smithyhttp.RequestSendError
	return errors.As(err, &sendErr) || backends.IsNetwork(err)
}

// isNotFound is the errors.Is shortcut used for "missing is fine" cases.
func isNotFound(err error) bool { return errors.Is(err, backends.ErrNotFound) }
