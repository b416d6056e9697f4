package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"

	"github.com/tusgate/tusgate/client"
)

const uploadUsage = `usage: tusgate upload [flags] FILE... --endpoint URL

Uploads each FILE with tus, resuming an earlier interrupted run of the same
file (same path, size, modification time and first MiB) to the same endpoint.`

type uploadCmd struct {
	httpOptions
	endpoint  string
	chunk     sizeFlag
	parallel  int
	checksum  string
	trailer   bool
	meta      listFlag
	jsonOut   bool
	progress  string
	interval  time.Duration
	store     string
	noResume  bool
	withFirst bool
}

func runUpload(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := uploadCmd{chunk: 64 << 20}
	fs := newFlagSet("upload", stderr, uploadUsage)
	c.register(fs)
	fs.StringVar(&c.endpoint, "endpoint", os.Getenv("TUSGATE_ENDPOINT"), "tus creation URL, e.g. http://localhost:8080/files/ (env TUSGATE_ENDPOINT)")
	fs.Var(&c.chunk, "chunk-size", "most bytes per PATCH request")
	fs.IntVar(&c.parallel, "parallel", 1, "upload this many partials at once and concatenate them (concatenation extension)")
	fs.StringVar(&c.checksum, "checksum", "", "checksum algorithm for every PATCH: "+strings.Join(client.Algorithms, ", ")+` ("" none)`)
	fs.BoolVar(&c.trailer, "checksum-trailer", false, "send the checksum as a trailer computed while streaming (one read of the file)")
	fs.Var(&c.meta, "meta", "metadata key=value (repeatable); filename and filetype are set by default")
	fs.BoolVar(&c.jsonOut, "json", false, "print JSON lines (progress and result) on stdout")
	fs.StringVar(&c.progress, "progress", "auto", "progress display: auto (a bar on a terminal, lines otherwise), bar, lines, none")
	fs.DurationVar(&c.interval, "progress-interval", 2*time.Second, "how often progress lines are printed when not on a terminal")
	fs.StringVar(&c.store, "resume-file", envOr("TUSGATE_RESUME_FILE", defaultResumePath()), "where upload URLs are remembered for resuming (env TUSGATE_RESUME_FILE)")
	fs.BoolVar(&c.noResume, "no-resume", false, "neither resume earlier uploads nor remember this one")
	fs.BoolVar(&c.withFirst, "creation-with-upload", true, "send the first chunk with the creating POST when the server offers it")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 || c.endpoint == "" {
		fs.Usage()
		return fmt.Errorf("%w: need FILE... and --endpoint", errUsage)
	}
	if c.parallel < 1 || c.parallel > 64 {
		return fmt.Errorf("%w: --parallel must be 1..64", errUsage)
	}
	meta := map[string]string{}
	for _, kv := range c.meta {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || strings.ContainsAny(k, " ,") {
			return fmt.Errorf("%w: --meta %q: want key=value, key without spaces or commas", errUsage, kv)
		}
		meta[k] = v
	}
	switch c.progress {
	case "auto", "bar", "lines", "none":
	default:
		return fmt.Errorf("%w: --progress %q", errUsage, c.progress)
	}
	cfg, err := c.config()
	if err != nil {
		return err
	}
	cfg.ChunkSize, cfg.Checksum, cfg.ChecksumTrailer = int64(c.chunk), c.checksum, c.trailer
	cl, err := client.New(cfg)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	out := &printer{w: stdout, json: c.jsonOut}
	for _, name := range files {
		if err := c.uploadFile(ctx, cl, name, meta, out, stderr); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func (c *uploadCmd) uploadFile(ctx context.Context, cl *client.Client, name string, base map[string]string, out *printer, stderr io.Writer) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	meta := map[string]string{"filename": filepath.Base(name), "filetype": fileType(f, name)}
	for k, v := range base {
		meta[k] = v
	}
	store := &resumeStore{path: c.store}
	var key string
	var resume *client.Resume
	if !c.noResume {
		if key, err = fingerprint(f, info, c.endpoint, c.parallel); err != nil {
			return err
		}
		r, ok, err := store.get(key)
		if err != nil {
			return err
		}
		if ok {
			resume = &r
		}
	}
	show := c.display(name, info.Size(), out, stderr)
	defer show.stop()
	var saveErr error
	up, err := cl.Upload(ctx, f, info.Size(), client.UploadOptions{
		Endpoint: c.endpoint, Metadata: meta, Resume: resume, Parallel: c.parallel,
		CreateWithUpload: c.withFirst,
		OnResume: func(r client.Resume) {
			if key != "" {
				if err := store.put(key, resumeEntry{Resume: r, File: name, Endpoint: c.endpoint}); err != nil && saveErr == nil {
					saveErr = err
				}
			}
			show.resumed(r, resume)
		},
		Progress: show.update,
	})
	show.stop()
	if err != nil {
		// The resume store keeps the URL OnResume saved, so running the
		// same command again continues from the server's offset.
		return err
	}
	if key != "" {
		if err := store.remove(key); err != nil {
			return err
		}
	}
	sum, err := fileSHA256(f)
	if err != nil {
		return err
	}
	out.done(name, up.URL, info.Size(), sum)
	return saveErr
}

// fileType guesses a MIME type from the extension, else from the content.
func fileType(f *os.File, name string) string {
	if t := mime.TypeByExtension(filepath.Ext(name)); t != "" {
		return t
	}
	head := make([]byte, 512)
	n, _ := f.ReadAt(head, 0)
	return http.DetectContentType(head[:n])
}

func fileSHA256(f *os.File) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, 1<<62)); err != nil {
		return "", fmt.Errorf("sha256: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// printer writes results (and, with --json, progress) to stdout.
type printer struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
}

func (p *printer) line(v any, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		b, _ := json.Marshal(v)
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	fmt.Fprintln(p.w, text)
}

func (p *printer) done(file, url string, size int64, sum string) {
	p.line(map[string]any{"event": "done", "file": file, "url": url, "size": size, "sha256": sum},
		fmt.Sprintf("%s  %s  sha256:%s", url, file, sum))
}

// display shows progress as a bar, periodic lines, JSON lines or not at all.
type display struct {
	name     string
	size     int64
	out      *printer
	stderr   io.Writer
	bar      *progressbar.ProgressBar
	lines    bool
	interval time.Duration

	mu       sync.Mutex
	start    time.Time
	startAt  int64
	last     time.Time
	sent     int64
	printed  int64
	stopped  bool
	announce bool
}

func (c *uploadCmd) display(name string, size int64, out *printer, stderr io.Writer) *display {
	d := &display{name: name, size: size, out: out, stderr: stderr, interval: c.interval, start: time.Now(), startAt: -1, printed: -1}
	mode := c.progress
	if mode == "auto" {
		mode = "lines"
		if f, ok := stderr.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			mode = "bar"
		}
	}
	switch {
	case c.jsonOut:
		d.lines = true
	case mode == "bar":
		d.bar = progressbar.NewOptions64(size,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription(filepath.Base(name)),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowTotalBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionUseIECUnits(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetWidth(30),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(stderr) }),
		)
	case mode == "lines":
		d.lines = true
	}
	return d
}

func (d *display) resumed(r client.Resume, earlier *client.Resume) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.announce || d.out.json {
		return
	}
	d.announce = true
	verb := "created"
	if earlier != nil && (earlier.URL == r.URL && r.URL != "" || len(r.Partials) > 0 && len(earlier.Partials) == len(r.Partials) && earlier.Partials[0] == r.Partials[0]) {
		verb = "resuming"
	}
	target := r.URL
	if target == "" {
		target = fmt.Sprintf("%d partials", len(r.Partials))
	}
	fmt.Fprintf(d.stderr, "%s: %s %s\n", d.name, verb, target)
}

func (d *display) update(p client.Progress) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return
	}
	if d.startAt < 0 {
		d.startAt = p.Sent
	}
	d.sent = p.Sent
	if d.bar != nil {
		_ = d.bar.Set64(p.Sent)
		return
	}
	if d.lines && p.Sent != d.printed && (time.Since(d.last) >= d.interval || p.Sent == d.size) {
		d.printed = p.Sent
		d.last = time.Now()
		d.print()
	}
}

// print writes one progress line; the caller holds mu.
func (d *display) print() {
	elapsed := time.Since(d.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(d.sent-max(d.startAt, 0)) / elapsed.Seconds()
	}
	pct := 100.0
	if d.size > 0 {
		pct = float64(d.sent) * 100 / float64(d.size)
	}
	if d.out.json {
		d.out.line(map[string]any{"event": "progress", "file": d.name, "sent": d.sent, "size": d.size, "bytes_per_second": int64(rate)}, "")
		return
	}
	eta := "-"
	if rate > 0 && d.sent < d.size {
		eta = time.Duration(float64(d.size-d.sent) / rate * float64(time.Second)).Round(time.Second).String()
	}
	fmt.Fprintf(d.stderr, "%s: %s / %s (%.1f%%) %s/s eta %s\n", d.name,
		humanize.IBytes(uint64(d.sent)), humanize.IBytes(uint64(d.size)), pct, humanize.IBytes(uint64(rate)), eta)
}

func (d *display) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return
	}
	d.stopped = true
	if d.bar != nil {
		if d.sent == d.size {
			_ = d.bar.Finish()
		} else {
			fmt.Fprintln(d.stderr)
		}
	}
}
