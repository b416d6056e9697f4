package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// healthcheck is `tusgate healthcheck [URL]`: exit 0 when URL (default the
// local /healthz) answers 200. It serves container HEALTHCHECKs in images
// that have no shell or curl.
func healthcheck(args []string, out io.Writer) int {
	url := "http://127.0.0.1:8080/healthz"
	if len(args) > 0 {
		url = args[0]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintln(out, "tusgate healthcheck:", err)
		return 2
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(out, "tusgate healthcheck:", err)
		return 1
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		fmt.Fprintln(out, "tusgate healthcheck:", url, "answered", res.Status)
		return 1
	}
	return 0
}
