package main

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// run identifies one measured run of one method.
type run struct {
	dir    string // working directory of the server process
	prefix string // key prefix in the bucket, ends in "/"
}

// method is one way of getting bytes into the bucket.
type method interface {
	name() string
	// begin prepares a run: servers are started fresh for every run, so
	// their peak RSS belongs to it alone.
	begin(ctx context.Context, r run) error
	// upload sends size bytes of the stream for seed and returns the key of
	// the object it became.
	upload(ctx context.Context, i int, seed uint64, size int64) (string, error)
	// end stops what begin started and returns its figures (nil for none).
	end() (*serverStats, error)
}

// serverMethod uploads through a tus server process with the Go client.
type serverMethod struct {
	label  string
	client *tusClient
	// command returns the binary, arguments and environment for a run on
	// addr, and the creation URL.
	command func(r run, addr string) (bin string, args, env []string, base string)
	// keyOf maps an upload URL to its object key.
	keyOf func(r run, uploadURL string) string

	r   run
	srv *server
}

func (m *serverMethod) name() string { return m.label }

func (m *serverMethod) begin(ctx context.Context, r run) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	bin, args, env, base := m.command(r, addr)
	m.r = r
	m.srv, err = startServer(ctx, r.dir, bin, args, env, base)
	return err
}

func (m *serverMethod) upload(ctx context.Context, _ int, seed uint64, size int64) (string, error) {
	u, err := m.client.upload(ctx, m.srv.url, seed, size)
	if err != nil {
		return "", err
	}
	return m.keyOf(m.r, u), nil
}

func (m *serverMethod) end() (*serverStats, error) {
	st, err := m.srv.stop()
	return &st, err
}

// settings shared by the server methods.
type serverSettings struct {
	endpoint, bucket, redisURL string
	partSize                   int64
	extraArgs                  []string
	// storeQuery adds s3:// URL options for tusgate ("a=b&c=d").
	storeQuery url.Values
	env        []string
}

func newTusgateMethod(label, bin string, s serverSettings, client *tusClient) *serverMethod {
	return &serverMethod{
		label:  label,
		client: client,
		command: func(r run, addr string) (string, []string, []string, string) {
			q := url.Values{}
			q.Set("endpoint", s.endpoint)
			q.Set("path_style", "true")
			q.Set("part_size", strconv.FormatInt(s.partSize, 10))
			for k, vs := range s.storeQuery {
				q[k] = vs
			}
			args := []string{
				"--listen", addr,
				"--store", fmt.Sprintf("s3://%s/%s?%s", s.bucket, r.prefix, q.Encode()),
				"--state", s.redisURL,
			}
			return bin, append(args, s.extraArgs...), s.env, "http://" + addr + "/files/"
		},
		keyOf: func(r run, u string) string { return r.prefix + path.Base(u) },
	}
}

// newTusdMethod runs tusd with the benchmark's part size, or, when
// s.partSize is 0, with its own defaults (50 MiB parts) as "tusd-defaults".
func newTusdMethod(bin string, s serverSettings, client *tusClient) *serverMethod {
	label := "tusd"
	if s.partSize == 0 {
		label = "tusd-defaults"
	}
	return &serverMethod{
		label:  label,
		client: client,
		command: func(r run, addr string) (string, []string, []string, string) {
			host, port, _ := strings.Cut(addr, ":")
			args := []string{
				"-host", host, "-port", port, "-base-path", "/files/",
				"-upload-dir", filepath.Join(r.dir, "unused"),
				"-s3-bucket", s.bucket,
				"-s3-endpoint", s.endpoint,
				"-s3-object-prefix", r.prefix,
			}
			if s.partSize > 0 {
				args = append(args, "-s3-part-size", strconv.FormatInt(s.partSize, 10))
			}
			return bin, append(args, s.extraArgs...), nil, "http://" + addr + "/files/"
		},
		// tusd's upload ID is "<object id>+<multipart upload id>".
		keyOf: func(r run, u string) string {
			id, _ := url.PathUnescape(path.Base(u))
			obj, _, _ := strings.Cut(id, "+")
			return r.prefix + obj
		},
	}
}
