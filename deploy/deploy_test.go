// Package deploy checks the deployment files without a cluster: every
// Kubernetes object (hand-written and rendered from the Helm chart) decodes
// strictly into its k8s.io/api type, so a misspelled field fails; and the
// settings they pass to tusgate are real flags with valid values.
package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/tusgate/tusgate/config"
)

// serviceMonitor is the part of the Prometheus Operator's type we use;
// decoding strictly into it still catches misspelled fields.
type serviceMonitor struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		Endpoints []struct {
			Port     string `json:"port"`
			Path     string `json:"path"`
			Interval string `json:"interval"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// objects is one set of manifests, decoded.
type objects struct {
	deployments []appsv1.Deployment
	services    []corev1.Service
	configMaps  []corev1.ConfigMap
	secrets     []corev1.Secret
	hpas        []autoscalingv2.HorizontalPodAutoscaler
	pdbs        []policyv1.PodDisruptionBudget
	monitors    []serviceMonitor
}

func decodeAll(t *testing.T, name string, raw []byte) objects {
	t.Helper()
	var o objects
	for i, doc := range splitDocs(raw) {
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatalf("%s document %d: %v", name, i, err)
		}
		var err error
		switch head.APIVersion + " " + head.Kind {
		case "apps/v1 Deployment":
			o.deployments = append(o.deployments, strict[appsv1.Deployment](doc, &err))
		case "v1 Service":
			o.services = append(o.services, strict[corev1.Service](doc, &err))
		case "v1 ConfigMap":
			o.configMaps = append(o.configMaps, strict[corev1.ConfigMap](doc, &err))
		case "v1 Secret":
			o.secrets = append(o.secrets, strict[corev1.Secret](doc, &err))
		case "autoscaling/v2 HorizontalPodAutoscaler":
			o.hpas = append(o.hpas, strict[autoscalingv2.HorizontalPodAutoscaler](doc, &err))
		case "policy/v1 PodDisruptionBudget":
			o.pdbs = append(o.pdbs, strict[policyv1.PodDisruptionBudget](doc, &err))
		case "monitoring.coreos.com/v1 ServiceMonitor":
			o.monitors = append(o.monitors, strict[serviceMonitor](doc, &err))
		case "kustomize.config.k8s.io/v1beta1 Kustomization":
		default:
			t.Fatalf("%s document %d: unexpected %s %s", name, i, head.APIVersion, head.Kind)
		}
		if err != nil {
			t.Errorf("%s document %d (%s): %v", name, i, head.Kind, err)
		}
	}
	return o
}

func strict[T any](doc []byte, err *error) T {
	var v T
	*err = yaml.UnmarshalStrict(doc, &v)
	return v
}

func splitDocs(raw []byte) [][]byte {
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(raw), -1) {
		if strings.TrimSpace(stripComments(d)) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

func stripComments(s string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// flagEnv is the set of TUSGATE_* variables tusgate reads, from its usage.
func flagEnv(t *testing.T) map[string]bool {
	t.Helper()
	var usage bytes.Buffer
	if _, err := config.Load([]string{"-h"}, func(string) string { return "" }, &usage); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("tusgate -h: %v", err)
	}
	names := map[string]bool{}
	for _, m := range regexp.MustCompile(`\(env (TUSGATE_[A-Z_]+)\)`).FindAllStringSubmatch(usage.String(), -1) {
		names[m[1]] = true
	}
	if len(names) < 10 {
		t.Fatalf("found only %d settings in the usage text:\n%s", len(names), usage.String())
	}
	names["TUSGATE_CONFIG"] = true
	return names
}

// checkSettings loads the environment the pod gets into tusgate's config:
// every TUSGATE_ name must be a setting and every value valid.
func checkSettings(t *testing.T, o objects) {
	t.Helper()
	known := flagEnv(t)
	env := map[string]string{}
	add := func(where, k, v string) {
		if strings.HasPrefix(k, "TUSGATE_") && !known[k] {
			t.Errorf("%s sets %s, which is not a tusgate setting", where, k)
		}
		env[k] = v
	}
	for _, cm := range o.configMaps {
		for k, v := range cm.Data {
			add("ConfigMap "+cm.Name, k, v)
		}
	}
	for _, s := range o.secrets {
		for k, v := range s.StringData {
			add("Secret "+s.Name, k, v)
		}
	}
	for _, d := range o.deployments {
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					add("Deployment "+d.Name, e.Name, e.Value)
				} else if strings.HasPrefix(e.Name, "TUSGATE_") && !known[e.Name] {
					t.Errorf("Deployment %s sets %s, which is not a tusgate setting", d.Name, e.Name)
				}
			}
		}
	}
	if env["TUSGATE_STATE"] == "" {
		t.Error("no TUSGATE_STATE: replicas need a shared state store")
	}
	c, err := config.Load(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatalf("tusgate would not start with this environment: %v", err)
	}
	checkDeployment(t, o, c)
}

func checkDeployment(t *testing.T, o objects, c config.Config) {
	t.Helper()
	if len(o.deployments) != 1 {
		t.Fatalf("%d Deployments, want 1", len(o.deployments))
	}
	d := o.deployments[0]
	ps := d.Spec.Template.Spec
	if ps.SecurityContext == nil || ps.SecurityContext.RunAsNonRoot == nil || !*ps.SecurityContext.RunAsNonRoot {
		t.Error("the pod does not require a non-root user")
	}
	if len(ps.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(ps.Containers))
	}
	ctr := ps.Containers[0]
	sc := ctr.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("the container's root filesystem is not read-only")
	}
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("the container allows privilege escalation")
	}
	if ctr.Resources.Limits.Memory().IsZero() || ctr.Resources.Requests.Cpu().IsZero() {
		t.Error("the container has no memory limit or CPU request")
	}
	ports := map[string]int32{}
	for _, p := range ctr.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if want := portOf(c.Listen); ports["http"] != want {
		t.Errorf("container port http is %d, TUSGATE_LISTEN says %d", ports["http"], want)
	}
	if want := portOf(c.MetricsListen); ports["metrics"] != want {
		t.Errorf("container port metrics is %d, TUSGATE_METRICS_LISTEN says %d", ports["metrics"], want)
	}
	for name, pr := range map[string]*corev1.Probe{"readiness": ctr.ReadinessProbe, "liveness": ctr.LivenessProbe} {
		want := map[string]string{"readiness": "/readyz", "liveness": "/healthz"}[name]
		if pr == nil || pr.HTTPGet == nil || pr.HTTPGet.Path != want || pr.HTTPGet.Port != intstr.FromString("http") {
			t.Errorf("%s probe is not GET %s on port http", name, want)
		}
	}
	var name *corev1.EnvVar
	for i, e := range ctr.Env {
		if e.Name == "TUSGATE_INSTANCE_NAME" {
			name = &ctr.Env[i]
		}
	}
	if name == nil || name.ValueFrom == nil || name.ValueFrom.FieldRef == nil || name.ValueFrom.FieldRef.FieldPath != "metadata.name" {
		t.Error("TUSGATE_INSTANCE_NAME is not the pod name (downward API metadata.name)")
	}
	if c.DrainDelay <= 0 {
		t.Error("no drain delay: the load balancer may still send requests to a stopping pod")
	}
	grace := ps.TerminationGracePeriodSeconds
	if grace == nil || float64(*grace) <= (c.DrainDelay+c.ShutdownTimeout).Seconds() {
		t.Errorf("terminationGracePeriodSeconds must exceed drain delay + shutdown timeout (%s)", c.DrainDelay+c.ShutdownTimeout)
	}
	sel := d.Spec.Selector.MatchLabels
	for _, s := range o.services {
		if !sameLabels(s.Spec.Selector, sel) {
			t.Errorf("Service %s selects %v, the Deployment's pods are %v", s.Name, s.Spec.Selector, sel)
		}
	}
	for _, p := range o.pdbs {
		if !sameLabels(p.Spec.Selector.MatchLabels, sel) {
			t.Errorf("PodDisruptionBudget %s selects %v, want %v", p.Name, p.Spec.Selector.MatchLabels, sel)
		}
	}
	for _, h := range o.hpas {
		if h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.Name != d.Name {
			t.Errorf("HPA %s targets %s %s", h.Name, h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name)
		}
	}
	for _, m := range o.monitors {
		if len(m.Spec.Endpoints) == 0 || m.Spec.Endpoints[0].Port != "metrics" || m.Spec.Endpoints[0].Path != "/metrics" {
			t.Errorf("ServiceMonitor %s does not scrape port metrics at /metrics", m.Metadata.Name)
		}
	}
}

func sameLabels(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func portOf(addr string) int32 {
	i := strings.LastIndex(addr, ":")
	var n int32
	for _, c := range addr[i+1:] {
		n = n*10 + c - '0'
	}
	return n
}

func TestKubernetesManifests(t *testing.T) {
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	var all objects
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		o := decodeAll(t, f, raw)
		all.deployments = append(all.deployments, o.deployments...)
		all.services = append(all.services, o.services...)
		all.configMaps = append(all.configMaps, o.configMaps...)
		all.secrets = append(all.secrets, o.secrets...)
		all.hpas = append(all.hpas, o.hpas...)
		all.pdbs = append(all.pdbs, o.pdbs...)
		all.monitors = append(all.monitors, o.monitors...)
	}
	if len(all.services) == 0 || len(all.hpas) == 0 || len(all.pdbs) == 0 || len(all.monitors) == 0 {
		t.Fatal("missing a Service, HPA, PodDisruptionBudget or ServiceMonitor")
	}
	checkSettings(t, all)
}

// TestHelmChart lints and renders the chart with the default values and
// each ci/*-values.yaml, with the helm binary in TUSGATE_HELM (scripts/test.sh
// builds it from the Go module proxy). Rendering needs no cluster.
func TestHelmChart(t *testing.T) {
	helm := os.Getenv("TUSGATE_HELM")
	if helm == "" {
		if os.Getenv("TUSGATE_REQUIRE_SERVICES") == "1" {
			t.Fatal("TUSGATE_HELM not set but TUSGATE_REQUIRE_SERVICES=1")
		}
		t.Skip("TUSGATE_HELM not set; run scripts/test.sh")
	}
	chart := filepath.Join("helm", "tusgate")
	if out, err := exec.Command(helm, "lint", "--strict", chart).CombinedOutput(); err != nil {
		t.Fatalf("helm lint: %v\n%s", err, out)
	}
	valueFiles, _ := filepath.Glob(filepath.Join(chart, "ci", "*-values.yaml"))
	for _, vf := range append([]string{""}, valueFiles...) {
		name := "default values"
		args := []string{"template", "tusgate", chart}
		if vf != "" {
			name, args = filepath.Base(vf), append(args, "--values", vf)
		}
		t.Run(name, func(t *testing.T) {
			var stderr bytes.Buffer
			cmd := exec.Command(helm, args...)
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
			}
			o := decodeAll(t, name, out)
			checkSettings(t, o)
		})
	}
}
