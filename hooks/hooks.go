// Package hooks describes the events tusgate reports around an upload's life
// and delivers them to receivers. The JSON shape is tusd's (v2), field for
// field, so a receiver written for tusd works unchanged; the Go interface
// Receiver serves people who embed the gateway as a library.
package hooks

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
)

// Type names an event.
type Type string

// The events, with tusd's names.
const (
	PreCreate     Type = "pre-create"
	PostCreate    Type = "post-create"
	PostReceive   Type = "post-receive"
	PreFinish     Type = "pre-finish"
	PostFinish    Type = "post-finish"
	PreTerminate  Type = "pre-terminate"
	PostTerminate Type = "post-terminate"
	// PreAccess is tusgate's own: it authorizes every request to an
	// existing upload (tusd has no such event).
	PreAccess Type = "pre-access"
)

// All lists every event in the order an upload meets them.
var All = []Type{PreCreate, PostCreate, PostReceive, PreFinish, PostFinish, PreTerminate, PostTerminate, PreAccess}

// DefaultEnabled is tusd's default set of enabled events.
var DefaultEnabled = []Type{PreCreate, PostCreate, PostReceive, PostTerminate, PostFinish}

// ParseTypes reads a comma-separated list of event names.
func ParseTypes(v string) ([]Type, error) {
	var out []Type
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		t := Type(name)
		if !slices.Contains(All, t) {
			return nil, errors.New("unknown hook event " + name)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// Blocking reports whether the client waits for the receiver's answer: the
// pre-* events decide something; post-* events are delivered from a queue.
func (t Type) Blocking() bool { return strings.HasPrefix(string(t), "pre-") }

// Request is what a receiver is sent.
type Request struct {
	Type  Type
	Event Event
}

// Event is the upload and the client request the event is about.
type Event struct {
	Upload      Upload
	HTTPRequest HTTPRequest
}

// Upload is the upload as tusd's FileInfo describes it.
type Upload struct {
	ID string
	// Size is the length in bytes; 0 while SizeIsDeferred.
	Size           int64
	SizeIsDeferred bool
	Offset         int64
	// MetaData is the decoded Upload-Metadata.
	MetaData       map[string]string
	IsPartial      bool
	IsFinal        bool
	PartialUploads []string
	// Storage says where the bytes are (Type, Bucket, Key, Path, ...).
	Storage map[string]string
}

// HTTPRequest is the client's request, with the headers the gateway chose
// to forward.
type HTTPRequest struct {
	Method     string
	URI        string
	RemoteAddr string
	Header     http.Header
}

// Response is a receiver's answer. Only the pre-* events act on it.
type Response struct {
	// HTTPResponse changes the client's response: a rejection's status,
	// body and headers, or headers added to a success.
	HTTPResponse HTTPResponse
	// RejectUpload (pre-create, pre-access) refuses the request.
	RejectUpload bool
	// RejectTermination (pre-terminate) refuses the DELETE.
	RejectTermination bool
	// ChangeFileInfo (pre-create) changes the new upload's ID or metadata.
	ChangeFileInfo FileInfoChanges
	// StopUpload (post-receive) stops the upload on whichever replica
	// serves it.
	StopUpload bool
}

// HTTPResponse is the part of the client's response a receiver may set.
type HTTPResponse struct {
	StatusCode int
	Body       string
	Header     map[string]string
}

// FileInfoChanges are the changes pre-create may make. A nil MetaData keeps
// the client's; an empty one removes it all.
type FileInfoChanges struct {
	ID       string
	MetaData map[string]string
	Storage  map[string]string
}

// Receiver handles events. Invoke returns the receiver's answer; an error
// means it could not be asked or did not answer properly.
type Receiver interface {
	Invoke(ctx context.Context, req Request) (Response, error)
}

// Stopper stops a running upload wherever it is being written (the
// gateway). A Dispatcher calls it for a post-receive answer's StopUpload,
// with the answer's HTTPResponse for the client.
type Stopper interface {
	StopUpload(ctx context.Context, id string, resp HTTPResponse) error
}

// ReceiverFunc adapts a function to Receiver.
type ReceiverFunc func(ctx context.Context, req Request) (Response, error)

// Invoke calls f.
func (f ReceiverFunc) Invoke(ctx context.Context, req Request) (Response, error) { return f(ctx, req) }
