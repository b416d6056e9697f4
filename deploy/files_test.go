package deploy

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/tusgate/tusgate/config"
	"github.com/tusgate/tusgate/test/e2e"
)

// TestDockerfile parses the Dockerfile with BuildKit's parser into its
// typed instructions (BuildKit's linter on; any warning fails) and checks
// the final stage: a static build, a non-root user, EXPOSE, TUSGATE_LISTEN
// and the HEALTHCHECK URL on one port, the default store and state under
// the VOLUME, a HEALTHCHECK using the binary's healthcheck subcommand, and
// ENV defaults tusgate accepts. With no Docker engine, the image's command
// is then run as the test binary: ENTRYPOINT + CMD with the image's ENV
// (its /data moved to a temporary directory and its port to a free one)
// must serve, and the HEALTHCHECK command must exit 0 against it. The
// healthcheck subcommand refuses unknown flags and extra arguments (the
// test checks that too), so a HEALTHCHECK naming a flag the binary lacks
// cannot pass.
func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	res, err := parser.Parse(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse Dockerfile: %v", err)
	}
	for _, w := range res.Warnings {
		t.Errorf("Dockerfile parser warning: %s", w.Short)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, desc, url, msg string, _ []parser.Range) {
		t.Errorf("Dockerfile lint %s: %s", rule, msg)
	}})
	stages, _, err := instructions.Parse(res.AST, lint)
	if err != nil {
		t.Fatalf("Dockerfile instructions: %v", err)
	}
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a multi-stage build", len(stages))
	}
	static := false
	for _, st := range stages[:len(stages)-1] {
		for _, c := range st.Commands {
			if r, ok := c.(*instructions.RunCommand); ok {
				line := strings.Join(r.CmdLine, " ")
				static = static || strings.Contains(line, "CGO_ENABLED=0") && strings.Contains(line, "./cmd/tusgate")
			}
		}
	}
	if !static {
		t.Error("no build stage builds ./cmd/tusgate with CGO_ENABLED=0")
	}

	known := flagEnv(t)
	env := map[string]string{}
	var user string
	var entrypoint, cmd, volumes, expose []string
	var health *instructions.HealthCheckCommand
	for _, c := range stages[len(stages)-1].Commands {
		switch c := c.(type) {
		case *instructions.UserCommand:
			user = c.User
		case *instructions.EntrypointCommand:
			if c.PrependShell {
				t.Error("ENTRYPOINT in shell form: the image has no shell")
			}
			entrypoint = c.CmdLine
		case *instructions.CmdCommand:
			if c.PrependShell {
				t.Error("CMD in shell form: the image has no shell")
			}
			cmd = c.CmdLine
		case *instructions.HealthCheckCommand:
			health = c
		case *instructions.VolumeCommand:
			volumes = append(volumes, c.Volumes...)
		case *instructions.ExposeCommand:
			expose = append(expose, c.Ports...)
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				if strings.HasPrefix(kv.Key, "TUSGATE_") && !known[kv.Key] {
					t.Errorf("ENV %s is not a tusgate setting", kv.Key)
				}
				env[kv.Key] = kv.Value
			}
		}
	}
	if user == "" || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("the final stage runs as %q, want a non-root USER", user)
	}
	if len(entrypoint) != 1 {
		t.Fatalf("ENTRYPOINT %v, want the binary alone (exec form)", entrypoint)
	}
	if health == nil || len(health.Health.Test) < 3 || health.Health.Test[0] != "CMD" {
		t.Fatalf("HEALTHCHECK %+v, want CMD in exec form", health)
	}
	probe := health.Health.Test[1:]
	if probe[0] != entrypoint[0] || probe[1] != "healthcheck" {
		t.Fatalf("HEALTHCHECK CMD %v, want %s healthcheck ...", probe, entrypoint[0])
	}
	if h := health.Health; h.Interval <= 0 || h.Timeout <= 0 || h.Timeout >= h.Interval || h.Retries < 1 {
		t.Errorf("HEALTHCHECK timing interval %s timeout %s retries %d: want a timeout below the interval", h.Interval, h.Timeout, h.Retries)
	}
	for i, a := range probe {
		if (a == "-timeout" || a == "--timeout") && i+1 < len(probe) {
			if d, err := time.ParseDuration(probe[i+1]); err != nil || d >= health.Health.Timeout {
				t.Errorf("healthcheck -timeout %s must be a duration below the HEALTHCHECK timeout %s", probe[i+1], health.Health.Timeout)
			}
		}
	}
	c, err := config.Load(cmd, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatalf("tusgate rejects the image's CMD %v and ENV defaults: %v", cmd, err)
	}
	port := strconv.Itoa(int(portOf(c.Listen)))
	if !slices.Contains(expose, port) && !slices.Contains(expose, port+"/tcp") {
		t.Errorf("EXPOSE %v does not include the listen port %s", expose, port)
	}
	probeURL := ""
	for _, a := range probe[2:] {
		if strings.HasPrefix(a, "http://") {
			probeURL = a
		}
	}
	u, err := url.Parse(probeURL)
	if err != nil || u.Port() != port || u.Path != "/healthz" {
		t.Fatalf("HEALTHCHECK URL %q, want http://127.0.0.1:%s/healthz", probeURL, port)
	}
	for _, v := range []string{c.Store, c.State} {
		su, _ := url.Parse(v)
		if !slices.ContainsFunc(volumes, func(vol string) bool { return strings.HasPrefix(su.Path, strings.TrimSuffix(vol, "/")+"/") }) {
			t.Errorf("%s is not under a VOLUME %v: the root filesystem may be read-only", v, volumes)
		}
	}

	// Run the image's command with the binary built from this tree.
	dir := t.TempDir()
	runEnv := []string{}
	for k, v := range env {
		runEnv = append(runEnv, k+"="+strings.ReplaceAll(v, "/data", dir))
	}
	p := e2e.StartWith(t, e2e.Options{Env: runEnv}, cmd...)
	u.Host = p.Addr
	args := slices.Clone(probe[1:]) // the binary is the test's build
	for i, a := range args {
		if a == probeURL {
			args[i] = u.String()
		}
	}
	if code, out := e2e.Run(t, e2e.Options{}, args...); code != 0 {
		t.Errorf("the HEALTHCHECK command %v exited %d against the running image command: %s", args, code, out)
	}
	// Strict parsing is what makes the run above meaningful.
	if code, _ := e2e.Run(t, e2e.Options{}, "healthcheck", "--no-such-flag", u.String()); code != 2 {
		t.Errorf("tusgate healthcheck with an unknown flag exited %d, want 2", code)
	}
	if code, _ := e2e.Run(t, e2e.Options{}, "healthcheck", u.String(), "extra"); code != 2 {
		t.Errorf("tusgate healthcheck with two URLs exited %d, want 2", code)
	}
}

// TestComposeFile loads docker-compose.yml with the Compose Specification's
// own loader (schema-validated) and checks the replicas' settings.
func TestComposeFile(t *testing.T) {
	details := types.ConfigDetails{
		WorkingDir:  "..",
		ConfigFiles: []types.ConfigFile{{Filename: "../docker-compose.yml"}},
		Environment: types.Mapping{},
	}
	p, err := loader.LoadWithContext(context.Background(), details, func(o *loader.Options) {
		o.SetProjectName("tusgate", true)
	})
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	known := flagEnv(t)
	var replicas []string
	for name, s := range p.Services {
		if s.Build == nil {
			continue
		}
		replicas = append(replicas, name)
		if s.Build.Dockerfile != "Dockerfile" {
			t.Errorf("service %s builds %q, want the repository's Dockerfile", name, s.Build.Dockerfile)
		}
		env := map[string]string{}
		for k, v := range s.Environment {
			if strings.HasPrefix(k, "TUSGATE_") && !known[k] {
				t.Errorf("service %s sets %s, which is not a tusgate setting", name, k)
			}
			if v != nil {
				env[k] = *v
			}
		}
		if _, err := config.Load(nil, func(k string) string { return env[k] }, io.Discard); err != nil {
			t.Errorf("service %s: tusgate rejects its environment: %v", name, err)
		}
		if !strings.HasPrefix(env["TUSGATE_STATE"], "redis://") {
			t.Errorf("service %s: state %q, want the shared Redis", name, env["TUSGATE_STATE"])
		}
		if env["TUSGATE_INSTANCE_NAME"] != name {
			t.Errorf("service %s: instance name %q, want the service name", name, env["TUSGATE_INSTANCE_NAME"])
		}
	}
	slices.Sort(replicas)
	if len(replicas) < 2 {
		t.Fatalf("tusgate replicas %v, want two", replicas)
	}
	lb, ok := p.Services["lb"]
	if !ok {
		t.Fatal("no load balancer service lb")
	}
	for _, r := range replicas {
		if _, ok := lb.DependsOn[r]; !ok {
			t.Errorf("lb does not depend on %s", r)
		}
	}
	for _, s := range []string{"redis", "minio", "azurite", "fake-gcs"} {
		if _, ok := p.Services[s]; !ok {
			t.Errorf("no %s service", s)
		}
	}
}
