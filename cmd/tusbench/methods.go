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

// sdkRun is what the SDK baselines share: their name, and the key of the
// i-th upload of a run.
type sdkRun struct{ prefix string }

func (*sdkRun) name() string { return "sdk" }

func (m *sdkRun) begin(_ context.Context, r run) error { m.prefix = r.prefix; return nil }

func (*sdkRun) end() (*serverStats, error) { return nil, nil }

func (m *sdkRun) key(i int) string { return fmt.Sprintf("%s%05d", m.prefix, i) }

// newTusgateOn runs tusgate with --store from storeURL, which gets the
// URL options: part_size, then those of --store-query, which win.
func newTusgateOn(label, bin string, s serverSettings, client *tusClient, env []string,
	storeURL func(r run, q url.Values) string) *serverMethod {
	return &serverMethod{
		label:  label,
		client: client,
		command: func(r run, addr string) (string, []string, []string, string) {
			q := url.Values{}
			q.Set("part_size", strconv.FormatInt(s.partSize, 10))
			for k, vs := range s.storeQuery {
				q[k] = vs
			}
			args := []string{"--listen", addr, "--store", storeURL(r, q), "--state", s.redisURL}
			return bin, append(args, s.extraArgs...), env, "http://" + addr + "/files/"
		},
		keyOf: baseKey,
	}
}

// newTusgateMethod runs tusgate on the MinIO bucket.
func newTusgateMethod(label, bin string, s serverSettings, client *tusClient) *serverMethod {
	return newTusgateOn(label, bin, s, client, s.env, func(r run, q url.Values) string {
		if !q.Has("endpoint") {
			q.Set("endpoint", s.endpoint)
		}
		if !q.Has("path_style") {
			q.Set("path_style", "true")
		}
		return fmt.Sprintf("s3://%s/%s?%s", s.bucket, r.prefix, q.Encode())
	})
}

// newTusdOn runs tusd with the store flags storeArgs gives for a run;
// keyOf maps its upload URLs to object keys.
func newTusdOn(label, bin string, s serverSettings, client *tusClient, env []string,
	storeArgs func(r run) []string, keyOf func(r run, uploadURL string) string) *serverMethod {
	return &serverMethod{
		label:  label,
		client: client,
		command: func(r run, addr string) (string, []string, []string, string) {
			host, port, _ := strings.Cut(addr, ":")
			args := append([]string{
				"-host", host, "-port", port, "-base-path", "/files/",
				"-upload-dir", filepath.Join(r.dir, "unused"),
			}, storeArgs(r)...)
			return bin, append(args, s.extraArgs...), env, "http://" + addr + "/files/"
		},
		keyOf: keyOf,
	}
}

// baseKey is the object key of a server that names objects by upload ID.
func baseKey(r run, uploadURL string) string { return r.prefix + path.Base(uploadURL) }

// newTusdMethod runs tusd with the benchmark's part size, or, when
// s.partSize is 0, with its own defaults (50 MiB parts) as "tusd-defaults".
func newTusdMethod(bin string, s serverSettings, client *tusClient) *serverMethod {
	label := "tusd"
	if s.partSize == 0 {
		label = "tusd-defaults"
	}
	return newTusdOn(label, bin, s, client, nil, func(r run) []string {
		args := []string{"-s3-bucket", s.bucket, "-s3-endpoint", s.endpoint, "-s3-object-prefix", r.prefix}
		if s.partSize > 0 {
			args = append(args, "-s3-part-size", strconv.FormatInt(s.partSize, 10))
		}
		return args
	}, func(r run, u string) string {
		// tusd's upload ID is "<object id>+<multipart upload id>".
		id, _ := url.PathUnescape(path.Base(u))
		obj, _, _ := strings.Cut(id, "+")
		return r.prefix + obj
	})
}
