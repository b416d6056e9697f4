package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/tusgate/tusgate/client"
)

const statusUsage = `usage: tusgate status [flags] URL...

Prints an upload's offset, length, expiry and metadata (one HEAD request).`

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o httpOptions
	var jsonOut bool
	fs := newFlagSet("status", stderr, statusUsage)
	o.register(fs)
	fs.BoolVar(&jsonOut, "json", false, "print one JSON object per URL")
	urls, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(urls) == 0 {
		fs.Usage()
		return fmt.Errorf("%w: need URL", errUsage)
	}
	cfg, err := o.config()
	if err != nil {
		return err
	}
	cl, err := client.New(cfg)
	if err != nil {
		return err
	}
	for _, u := range urls {
		info, err := cl.Head(ctx, u)
		if err != nil {
			return err
		}
		if jsonOut {
			v := map[string]any{"url": info.URL, "offset": info.Offset, "complete": info.Complete(), "metadata": info.Metadata}
			if info.Length >= 0 {
				v["length"] = info.Length
			}
			if !info.Expires.IsZero() {
				v["expires"] = info.Expires.UTC().Format(time.RFC3339)
			}
			if info.Concat != "" {
				v["concat"] = info.Concat
			}
			b, _ := json.Marshal(v)
			fmt.Fprintf(stdout, "%s\n", b)
			continue
		}
		printStatus(stdout, info)
	}
	return nil
}

func printStatus(w io.Writer, info *client.Info) {
	fmt.Fprintf(w, "url:      %s\n", info.URL)
	length := "deferred"
	state := "in progress"
	if info.Length >= 0 {
		length = fmt.Sprintf("%d (%s)", info.Length, humanize.IBytes(uint64(info.Length)))
		if info.Complete() {
			state = "complete"
		}
	}
	pct := ""
	if info.Length > 0 {
		pct = fmt.Sprintf(" (%.1f%%)", float64(info.Offset)*100/float64(info.Length))
	}
	fmt.Fprintf(w, "offset:   %d%s\n", info.Offset, pct)
	fmt.Fprintf(w, "length:   %s\n", length)
	fmt.Fprintf(w, "state:    %s\n", state)
	if !info.Expires.IsZero() {
		fmt.Fprintf(w, "expires:  %s (in %s)\n", info.Expires.UTC().Format(time.RFC3339), time.Until(info.Expires).Round(time.Second))
	}
	if info.Concat != "" {
		fmt.Fprintf(w, "concat:   %s\n", info.Concat)
	}
	keys := make([]string, 0, len(info.Metadata))
	for k := range info.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "metadata: %s=%q\n", k, info.Metadata[k])
	}
}
