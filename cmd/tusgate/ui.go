package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/tusgate/tusgate/config"
	"github.com/tusgate/tusgate/state"
	"github.com/tusgate/tusgate/ui"
)

// mountUI serves the operator page at /ui/ when --ui is set.
func mountUI(mux *http.ServeMux, cfg config.Config, store state.Store, log *slog.Logger) error {
	lister, ok := store.(ui.Lister)
	if !ok {
		return fmt.Errorf("--ui: state store %T cannot list uploads", store)
	}
	h, err := ui.New(ui.Config{Prefix: "/ui/", Endpoint: cfg.BasePath, Logger: log}, lister)
	if err != nil {
		return err
	}
	mux.Handle("/ui/", h)
	return nil
}
