// Package ui serves tusgate's operator page: Uppy's Dashboard uploading with
// tus to the gateway, and a live list of uploads in progress read from the
// state store. The page's assets are bundled by esbuild from ui/web (npm)
// into ui/dist and embedded, so the binary needs no network.
package ui

import (
	"context"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tusgate/tusgate/state"
)

//go:embed dist/app.js dist/app.css
var dist embed.FS

//go:embed index.html
var indexHTML string

var page = template.Must(template.New("index").Parse(indexHTML))

// Lister is what the page needs from a state store: a bounded listing of
// unfinished uploads. boltstore and redisstore implement it.
type Lister interface {
	Active(ctx context.Context, limit int) ([]*state.Upload, error)
}

// Limits of the JSON listing, so its size never depends on how many
// uploads exist or on what clients sent.
const (
	DefaultLimit = 100
	maxLimit     = 500
	maxFilename  = 200
)

// Config configures the page.
type Config struct {
	// Prefix is where the page is mounted, e.g. "/ui/".
	Prefix string
	// Endpoint is the tus creation URL the page uploads to, e.g. "/files/".
	Endpoint string
	// ChunkSize is Uppy's PATCH size (0: 8 MiB).
	ChunkSize int64
	// Limit caps the listed uploads (0: DefaultLimit).
	Limit int
	// Refresh is how often the page polls the list (0: 2s).
	Refresh time.Duration
	Logger  *slog.Logger
}

// Handler serves the page, its assets and the listing under cfg.Prefix.
type Handler struct {
	cfg    Config
	lister Lister
	mux    *http.ServeMux
	index  []byte
}

// New returns the page's handler.
func New(cfg Config, lister Lister) (*Handler, error) {
	if lister == nil {
		return nil, fmt.Errorf("ui: the state store cannot list uploads")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "/ui/"
	}
	if !strings.HasSuffix(cfg.Prefix, "/") {
		cfg.Prefix += "/"
	}
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = 8 << 20
	}
	if cfg.Limit <= 0 || cfg.Limit > maxLimit {
		cfg.Limit = DefaultLimit
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, lister: lister, mux: http.NewServeMux()}
	conf, err := json.Marshal(map[string]any{
		"endpoint": cfg.Endpoint, "chunkSize": cfg.ChunkSize,
		"api": cfg.Prefix + "api/uploads", "refreshMillis": cfg.Refresh.Milliseconds(),
	})
	if err != nil {
		return nil, fmt.Errorf("ui: %w", err)
	}
	var b strings.Builder
	// The JSON goes into a <script type="application/json"> element, where
	// html/template would escape it as JS; it holds only operator settings.
	if err := page.Execute(&b, map[string]any{"Prefix": cfg.Prefix, "Config": template.JS(conf)}); err != nil {
		return nil, fmt.Errorf("ui: %w", err)
	}
	h.index = []byte(b.String())
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, fmt.Errorf("ui: %w", err)
	}
	h.mux.HandleFunc("GET "+cfg.Prefix+"{$}", h.serveIndex)
	h.mux.HandleFunc("GET "+cfg.Prefix+"api/uploads", h.serveList)
	h.mux.Handle("GET "+cfg.Prefix+"app.js", http.StripPrefix(cfg.Prefix, http.FileServerFS(sub)))
	h.mux.Handle("GET "+cfg.Prefix+"app.css", http.StripPrefix(cfg.Prefix, http.FileServerFS(sub)))
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) serveIndex(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(h.index)
}

// Item is one upload in the listing. It carries no metadata but the file
// name (shortened), and no backend handles.
type Item struct {
	ID       string `json:"id"`
	Filename string `json:"filename,omitempty"`
	Offset   int64  `json:"offset"`
	Length   int64  `json:"length"` // -1 while deferred
	Locked   bool   `json:"locked"`
	// Holder is the instance name of the replica holding the lock, when
	// locked and the store knows it (bounded and checked by the store).
	Holder  string    `json:"holder,omitempty"`
	Partial bool      `json:"partial,omitempty"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires,omitzero"`
}

// List is the JSON body of GET {prefix}api/uploads.
type List struct {
	Uploads   []Item `json:"uploads"`
	Limit     int    `json:"limit"`
	Truncated bool   `json:"truncated"`
}

func (h *Handler) serveList(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	// One more than shown tells whether the list was cut.
	ups, err := h.lister.Active(ctx, h.cfg.Limit+1)
	if err != nil {
		h.cfg.Logger.Warn("ui: list uploads", "err", err)
		http.Error(w, "state store unavailable", http.StatusServiceUnavailable)
		return
	}
	out := List{Uploads: []Item{}, Limit: h.cfg.Limit}
	for _, u := range ups {
		if len(out.Uploads) == h.cfg.Limit {
			out.Truncated = true
			break
		}
		out.Uploads = append(out.Uploads, Item{
			ID: u.ID, Filename: filename(u.Metadata), Offset: u.Offset, Length: u.Length,
			Locked: u.Locked, Holder: u.Holder, Partial: u.Partial, Created: u.CreatedAt, Expires: u.ExpiresAt,
		})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(out)
}

// filename extracts the filename value of a raw Upload-Metadata header,
// shortened to maxFilename bytes of valid UTF-8.
func filename(meta string) string {
	for _, pair := range strings.Split(meta, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(pair), " ")
		if k != "filename" {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return ""
		}
		s := strings.ToValidUTF8(string(b), "\uFFFD")
		for len(s) > maxFilename {
			_, size := utf8.DecodeLastRuneInString(s)
			s = s[:len(s)-size]
		}
		return s
	}
	return ""
}
