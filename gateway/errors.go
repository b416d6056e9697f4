package gateway

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/state"
)

// Protocol errors. Handlers wrap them with details (fmt.Errorf("%w: ...")),
// and statusOf maps them, together with the state and backend sentinels, to
// HTTP statuses. This file is the only place that knows the mapping.
var (
	errUnsupportedVersion = errors.New("unsupported tus version")
	errBadRequest         = errors.New("bad request")
	errForbidden          = errors.New("forbidden")
	errNotFound           = errors.New("upload not found")
	errOffsetMismatch     = errors.New("Upload-Offset does not match the upload's offset")
	errNotFinished        = errors.New("upload is not finished")
	errGone               = errors.New("upload expired")
	errTooLarge           = errors.New("upload too large")
	errMediaType          = errors.New("unsupported media type")
	errChecksumMismatch   = errors.New("checksum mismatch")
	errTakenOver          = errors.New("upload taken over by a newer request; bytes received so far were stored")
	errClientGone         = errors.New("request body ended early; bytes received so far were stored")
	errReadTimeout        = errors.New("request body stalled; bytes received so far were stored")
	errShuttingDown       = errors.New("server shutting down; bytes received so far were stored")
	errNotImplemented     = errors.New("not supported by the configured storage")
)

// statusChecksumMismatch is the checksum extension's own status code.
const statusChecksumMismatch = 460

var errorStatuses = []struct {
	err    error
	status int
}{
	{errUnsupportedVersion, http.StatusPreconditionFailed},
	{errBadRequest, http.StatusBadRequest},
	{errClientGone, http.StatusBadRequest},
	{errForbidden, http.StatusForbidden},
	{errNotFound, http.StatusNotFound},
	{state.ErrNotFound, http.StatusNotFound},
	{backends.ErrNotFound, http.StatusNotFound},
	{errOffsetMismatch, http.StatusConflict},
	{errNotFinished, http.StatusConflict},
	{state.ErrConflict, http.StatusConflict},
	{state.ErrFenced, http.StatusConflict},
	{errGone, http.StatusGone},
	{errTooLarge, http.StatusRequestEntityTooLarge},
	{backends.ErrTooLarge, http.StatusRequestEntityTooLarge},
	{errMediaType, http.StatusUnsupportedMediaType},
	{errTakenOver, http.StatusLocked},
	{state.ErrLocked, http.StatusLocked},
	{errChecksumMismatch, statusChecksumMismatch},
	{errReadTimeout, http.StatusInternalServerError},
	{errNotImplemented, http.StatusNotImplemented},
	{errShuttingDown, http.StatusServiceUnavailable},
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
	status, sentinel := statusOf(err)
	h := c.Response().Header()
	h.Set(hdrTusResumable, tusVersion)
	msg := err.Error()
	var he *echo.HTTPError
	if errors.As(err, &he) && sentinel == nil {
		if m, ok := he.Message.(string); ok {
			msg = m
		}
	}
	switch {
	case status == http.StatusPreconditionFailed:
		h.Set(hdrTusVersion, tusVersion)
	case status >= 500:
		// Clients get the sentinel's short text; the cause goes to the log.
		msg = http.StatusText(status)
		if sentinel != nil {
			msg = sentinel.Error()
		}
		g.log.ErrorContext(c.Request().Context(), "request failed",
			"method", c.Request().Method, "path", c.Request().URL.Path, "status", status, "err", err)
	}
	if status == http.StatusServiceUnavailable {
		h.Set("Retry-After", strconv.Itoa(retryAfterSeconds(err)))
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = c.String(status, msg+"\n")
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
