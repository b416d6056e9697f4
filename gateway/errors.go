package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/state"
)

// Protocol errors. Handlers return them with details through protoErr, and
// statusOf maps them, together with the state and backend sentinels, to
// HTTP statuses. This file is the only place that knows the mapping.
var (
	errUnsupportedVersion  = errors.New("unsupported tus version")
	errBadRequest          = errors.New("bad request")
	errForbidden           = errors.New("forbidden")
	errNotFound            = errors.New("upload not found")
	errOffsetMismatch      = errors.New("Upload-Offset does not match the upload's offset")
	errNotFinished         = errors.New("upload is not finished")
	errRewound             = errors.New("upload offset went back")
	errGone                = errors.New("upload expired")
	errTooLarge            = errors.New("upload too large")
	errMediaType           = errors.New("unsupported media type")
	errChecksumMismatch    = errors.New("checksum mismatch")
	errTakenOver           = errors.New("upload taken over by a newer request; bytes received so far were stored")
	errClientGone          = errors.New("request body ended early; bytes received so far were stored")
	errReadTimeout         = errors.New("request body stalled; bytes received so far were stored")
	errTooSlow             = errors.New("request body too slow; bytes received so far were stored")
	errHeaderTooLarge      = errors.New("request header too large")
	errRangeNotSatisfiable = errors.New("range not satisfiable")
	errShuttingDown        = errors.New("server shutting down; bytes received so far were stored")
	errNotImplemented      = errors.New("not supported by the configured storage")
	errInconsistentLength  = errors.New("inconsistent upload length")
	errInteropVersion      = errors.New("unsupported Upload-Draft-Interop-Version")
	// errStopped is tusd's message, word for word, once a hook's
	// StopUpload stopped an upload (answered as a hook rejection, 400).
	errStopped = errors.New("upload has been stopped by server")
)

// protoError is a protocol error with the detail a client may read. Its
// cause, if any, is kept for the log line and never shown to the client.
type protoError struct {
	sentinel error
	detail   string
	cause    error
}

// protoErr returns sentinel with a client-facing detail.
func protoErr(sentinel error, format string, args ...any) error {
	return &protoError{sentinel: sentinel, detail: fmt.Sprintf(format, args...)}
}

func (e *protoError) Error() string {
	msg := e.sentinel.Error()
	if e.detail != "" {
		msg += ": " + e.detail
	}
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

func (e *protoError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.sentinel}
	}
	return []error{e.sentinel, e.cause}
}

// clientMessage is what a client reads: the protocol error and its detail,
// or the short text of the sentinel that decided the status, never the
// chain of internal wrappers (package names, IDs of other layers, paths).
func clientMessage(err, sentinel error, status int) string {
	var pe *protoError
	msg := http.StatusText(status)
	switch {
	case errors.As(err, &pe):
		msg = pe.sentinel.Error()
		if pe.detail != "" {
			msg += ": " + pe.detail
		}
	case sentinel != nil:
		msg = sentinel.Error()
	default:
		var he *echo.HTTPError
		if errors.As(err, &he) {
			if m, ok := he.Message.(string); ok {
				msg = m
			}
		}
	}
	return truncate(msg, maxMessageLen)
}

// maxMessageLen bounds an error message, which may quote client input.
const maxMessageLen = 300

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// statusChecksumMismatch is the checksum extension's own status code.
const statusChecksumMismatch = 460

var errorStatuses = []struct {
	err    error
	status int
}{
	{errUnsupportedVersion, http.StatusPreconditionFailed},
	{errBadRequest, http.StatusBadRequest},
	{errInconsistentLength, http.StatusBadRequest},
	{errInteropVersion, http.StatusBadRequest},
	{errClientGone, http.StatusBadRequest},
	{errUnauthenticated, http.StatusUnauthorized},
	{errForbidden, http.StatusForbidden},
	{errNotFound, http.StatusNotFound},
	{state.ErrNotFound, http.StatusNotFound},
	{backends.ErrNotFound, http.StatusNotFound},
	{errOffsetMismatch, http.StatusConflict},
	{errNotFinished, http.StatusConflict},
	{errRewound, http.StatusConflict},
	{state.ErrConflict, http.StatusConflict},
	{state.ErrFenced, http.StatusConflict},
	{errGone, http.StatusGone},
	{errTooLarge, http.StatusRequestEntityTooLarge},
	{backends.ErrTooLarge, http.StatusRequestEntityTooLarge},
	{errMediaType, http.StatusUnsupportedMediaType},
	{errTakenOver, http.StatusLocked},
	{state.ErrLocked, http.StatusLocked},
	{errChecksumMismatch, statusChecksumMismatch},
	{errReadTimeout, http.StatusRequestTimeout},
	{errTooSlow, http.StatusRequestTimeout},
	{errHeaderTooLarge, http.StatusRequestHeaderFieldsTooLarge},
	{errRangeNotSatisfiable, http.StatusRequestedRangeNotSatisfiable},
	{errNotImplemented, http.StatusNotImplemented},
	{errShuttingDown, http.StatusServiceUnavailable},
	{errHookFailed, http.StatusServiceUnavailable},
	{state.ErrExists, http.StatusConflict},
	{state.ErrUnavailable, http.StatusServiceUnavailable},
	{backends.ErrUnavailable, http.StatusServiceUnavailable},
	{context.DeadlineExceeded, http.StatusServiceUnavailable},
}

// statusOf returns the HTTP status for err and the sentinel that decided it.
func statusOf(err error) (int, error) {
	for _, e := range errorStatuses {
		if errors.Is(err, e.err) {
			return e.status, e.err
		}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return he.Code, nil
	}
	return http.StatusInternalServerError, nil
}

// handleError is Echo's HTTPErrorHandler: every error response carries the
// tus headers, a short plain-text message and, on HEAD, no body.
func (g *Gateway) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var hr *hookRejection
	if errors.As(err, &hr) {
		g.log.InfoContext(c.Request().Context(), "request refused by hook", "event", string(hr.typ), "method", methodLabel(c.Request().Method))
		g.writeRejection(c.Response(), c.Request().Method == http.MethodHead, hr)
		return
	}
	status, sentinel := statusOf(err)
	h := c.Response().Header()
	r := c.Request()
	ietf := hasHeader(r, hdrInterop)
	if !ietf {
		h.Set(hdrTusResumable, tusVersion)
	}
	msg := clientMessage(err, sentinel, status)
	attrs := []any{"method", methodLabel(r.Method), "path", truncate(r.URL.Path, 200), "status", status, "err", truncate(err.Error(), 1000)}
	switch {
	case status == http.StatusPreconditionFailed && !ietf:
		h.Set(hdrTusVersion, tusVersion)
	case status >= 500:
		// Clients get the sentinel's short text; the cause goes to the log.
		msg = http.StatusText(status)
		if sentinel != nil {
			msg = sentinel.Error()
		}
		g.log.ErrorContext(r.Context(), "request failed", attrs...)
	case errors.Is(err, errClientGone) || status == http.StatusRequestTimeout:
		// The client's network failed; nothing is wrong with the server.
		g.log.InfoContext(r.Context(), "request body cut short", attrs...)
	default:
		g.log.DebugContext(r.Context(), "request refused", attrs...)
	}
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="tusgate"`)
	}
	if status == http.StatusServiceUnavailable {
		h.Set("Retry-After", strconv.Itoa(retryAfterSeconds(err)))
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	if ietf {
		_ = c.Blob(status, problemJSON, problemOf(err, status, msg))
		return
	}
	_ = c.String(status, msg+"\n")
}

// Problem types of the IETF resumable upload draft (RFC 9457).
const (
	problemJSON               = "application/problem+json"
	problemMismatchingOffset  = "https://iana.org/assignments/http-problem-types#mismatching-upload-offset"
	problemInconsistentLength = "https://iana.org/assignments/http-problem-types#inconsistent-upload-length"
)

// offsetMismatch is errOffsetMismatch with the two offsets that the
// mismatching-upload-offset problem reports.
type offsetMismatch struct {
	*protoError
	expected, provided int64
}

func (e *offsetMismatch) Unwrap() error { return e.protoError }

func mismatchErr(expected, provided int64) error {
	pe := protoErr(errOffsetMismatch, "the request says %d, the upload is at %d", provided, expected).(*protoError)
	return &offsetMismatch{protoError: pe, expected: expected, provided: provided}
}

// problem is an RFC 9457 problem details object.
type problem struct {
	Type           string `json:"type"`
	Title          string `json:"title"`
	Status         int    `json:"status"`
	Detail         string `json:"detail,omitempty"`
	ExpectedOffset *int64 `json:"expected-offset,omitempty"`
	ProvidedOffset *int64 `json:"provided-offset,omitempty"`
}

// problemOf is the body of an error answered to a draft request: the
// draft's own problem types where it names one, about:blank otherwise.
func problemOf(err error, status int, msg string) []byte {
	p := problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: msg}
	var om *offsetMismatch
	switch {
	case errors.As(err, &om):
		p.Type, p.Title = problemMismatchingOffset, "offset from request does not match offset of resource"
		p.ExpectedOffset, p.ProvidedOffset = &om.expected, &om.provided
	case errors.Is(err, errInconsistentLength):
		p.Type, p.Title = problemInconsistentLength, "inconsistent length values for upload"
	}
	b, _ := json.Marshal(p) // plain strings and integers: cannot fail
	return b
}

func retryAfterSeconds(err error) int {
	var ra backends.RetryAfter
	if errors.As(err, &ra) {
		if d := ra.RetryAfter(); d > 0 {
			return int((d + time.Second - 1) / time.Second)
		}
	}
	return 1
}
