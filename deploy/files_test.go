package deploy

import (
	"context"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/tusgate/tusgate/config"
)

// TestDockerfile parses the Dockerfile with BuildKit's parser and checks
// the final stage: a static build, a non-root user, a HEALTHCHECK using the
// binary's healthcheck subcommand, and TUSGATE_* defaults tusgate accepts.
func TestDockerfile(t *testing.T) {
	f, err := os.Open("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("parse Dockerfile: %v", err)
	}
	var stages [][]*parser.Node
	for _, n := range res.AST.Children {
		if strings.EqualFold(n.Value, "from") {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			continue // ARG or parser directives before the first FROM
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], n)
	}
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a multi-stage build", len(stages))
	}
	args := func(n *parser.Node) []string {
		var out []string
		for x := n.Next; x != nil; x = x.Next {
			out = append(out, x.Value)
		}
		return out
	}
	static := false
	for _, stage := range stages[:len(stages)-1] {
		for _, n := range stage {
			if strings.EqualFold(n.Value, "run") && strings.Contains(strings.Join(args(n), " "), "CGO_ENABLED=0") &&
				strings.Contains(strings.Join(args(n), " "), "./cmd/tusgate") {
				static = true
			}
		}
	}
	if !static {
		t.Error("no build stage builds ./cmd/tusgate with CGO_ENABLED=0")
	}

	final := stages[len(stages)-1]
	known := flagEnv(t)
	env := map[string]string{}
	var user string
	var entrypoint, health []string
	for _, n := range final {
		switch strings.ToLower(n.Value) {
		case "user":
			user = args(n)[0]
		case "entrypoint":
			entrypoint = args(n)
		case "healthcheck":
			health = args(n.Next) // after CMD, its arguments
			if n.Next.Value != "CMD" {
				t.Errorf("HEALTHCHECK %s, want CMD", n.Next.Value)
			}
		case "env":
			a := args(n)
			for i := 0; i+1 < len(a); i += 3 { // name, value, separator
				if strings.HasPrefix(a[i], "TUSGATE_") && !known[a[i]] {
					t.Errorf("ENV %s is not a tusgate setting", a[i])
				}
				env[a[i]] = a[i+1]
			}
		}
	}
	if user == "" || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("the final stage runs as %q, want a non-root USER", user)
	}
	if len(entrypoint) != 1 {
		t.Fatalf("ENTRYPOINT %v, want the binary alone (exec form)", entrypoint)
	}
	if len(health) < 2 || health[0] != entrypoint[0] || health[1] != "healthcheck" {
		t.Errorf("HEALTHCHECK CMD %v, want %s healthcheck ...", health, entrypoint[0])
	}
	if _, err := config.Load(nil, func(k string) string { return env[k] }, io.Discard); err != nil {
		t.Errorf("tusgate rejects the image's ENV defaults: %v", err)
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
