package gateway_test

import (
	"context"
	"log"
	"log/slog"
	"net/http"

	"github.com/tusgate/tusgate/backends/filestore"
	"github.com/tusgate/tusgate/gateway"
	"github.com/tusgate/tusgate/hooks"
	"github.com/tusgate/tusgate/state/boltstore"
)

// Embedding the gateway in a Go program, with the hook events as a Go
// interface instead of HTTP: the pre-* events are asked of the Receiver
// while the client waits; post-* events go through the state store's
// durable queue to the same Receiver (at least once), and a post-receive
// answer's StopUpload stops the upload.
func Example_hooks() {
	ctx := context.Background()
	st, err := boltstore.Open("./data/tusgate.db", boltstore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	files, err := filestore.New("./data", filestore.Options{})
	if err != nil {
		log.Fatal(err)
	}
	receiver := hooks.ReceiverFunc(func(ctx context.Context, req hooks.Request) (hooks.Response, error) {
		up := req.Event.Upload
		switch req.Type {
		case hooks.PreCreate:
			if up.Size > 1<<30 {
				return hooks.Response{RejectUpload: true, HTTPResponse: hooks.HTTPResponse{StatusCode: http.StatusRequestEntityTooLarge, Body: "1 GiB at most"}}, nil
			}
		case hooks.PostReceive:
			// For example, a quota reached while the bytes arrive.
			return hooks.Response{StopUpload: up.Offset > 512<<20}, nil
		case hooks.PostFinish:
			slog.Info("finished", "id", up.ID, "file", up.MetaData["filename"], "at", up.Storage["Path"])
		}
		return hooks.Response{}, nil
	})
	disp := hooks.NewDispatcher(st, receiver, nil, hooks.DispatchOptions{})
	gw, err := gateway.New(gateway.Config{Hooks: gateway.Hooks{
		Receiver: receiver, Poster: disp, Enabled: hooks.All,
	}}, st, st, files)
	if err != nil {
		log.Fatal(err)
	}
	disp.OnStop(gw)
	go disp.Run(ctx)
	go gw.RunSweeper(ctx)
	log.Fatal(http.ListenAndServe(":8080", gw))
}
