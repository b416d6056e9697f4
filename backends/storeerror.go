package backends

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// ThrottleBackoff is the wait suggested to clients when a store throttles
// without saying for how long.
const ThrottleBackoff = 5 * time.Second

// StoreError is the failure of one call to an object store, classified
// against the sentinels by the store's driver. Kind is ErrNotFound,
// ErrUnavailable, ErrTooLarge or nil (no tus meaning of its own).
type StoreError struct {
	Store  string // the package, e.g. "gcsstore"
	Op     string // the store's operation, e.g. "ComposeObject"
	Code   string // the service's error code, when it sent one
	Status int    // the HTTP status, when the service answered
	Kind   error
	Err    error
	// After is how long a throttled caller should wait (see Throttled).
	After time.Duration
}

func (e *StoreError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%s: %s: %s", e.Store, e.Op, e.Code)
	}
	return fmt.Sprintf("%s: %s: %v", e.Store, e.Op, e.Err)
}

// Unwrap exposes both the sentinel and the cause.
func (e *StoreError) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// ThrottledBy marks e as throttled for the Retry-After (in seconds, below
// an hour) of the store's answer h, else ThrottleBackoff.
func ThrottledBy(e *StoreError, h http.Header) error {
	e.After = ThrottleBackoff
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s > 0 && s < 3600 {
		e.After = time.Duration(s) * time.Second
	}
	return Throttled(e)
}

// IsNetwork reports failures to reach a store at all.
func IsNetwork(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded)
}

// Throttled marks e as throttling: the error implements RetryAfter with
// e.After, which the gateway sends as Retry-After.
func Throttled(e *StoreError) error { return throttled{e} }

type throttled struct{ e *StoreError }

func (t throttled) Error() string { return t.e.Error() }

func (t throttled) RetryAfter() time.Duration { return t.e.After }

func (t throttled) Unwrap() error { return t.e }
