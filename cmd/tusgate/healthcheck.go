package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

// healthcheck is `tusgate healthcheck [-timeout D] [URL]`: exit 0 when URL
// (default the local /healthz) answers 200, 1 when it does not, 2 for a
// bad command line. It serves container HEALTHCHECKs in images that have
// no shell or curl; arguments are parsed strictly, so a HEALTHCHECK that
// names a flag this binary lacks fails loudly instead of probing a wrong URL.
func healthcheck(args []string, out io.Writer) int {
	fs := flag.NewFlagSet("tusgate healthcheck", flag.ContinueOnError)
	fs.SetOutput(out)
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	fs.Usage = func() {
		fmt.Fprintln(out, "usage: tusgate healthcheck [-timeout 3s] [URL]  (default URL http://127.0.0.1:8080/healthz)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 1 || *timeout <= 0 {
		fs.Usage()
		return 2
	}
	url := "http://127.0.0.1:8080/healthz"
	if fs.NArg() == 1 {
		url = fs.Arg(0)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
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
