package config

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsServeTheEmbeddedStack(t *testing.T) {
	c, err := Load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":8080" || c.BasePath != "/files/" || c.Store != "file://./data" || c.State != "bolt://./data/tusgate.db" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if c.Expiration != 24*time.Hour {
		t.Fatalf("expiration should be on by default, got %s", c.Expiration)
	}
	if c.MaxSize != 0 || len(c.CORSOrigins) != 1 || c.CORSOrigins[0] != "*" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestFlagBeatsEnvBeatsFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tusgate.yaml")
	yaml := "max-size: 1GiB\nexpiration: 2h\nlisten: \":9001\"\ncors-origins: [\"https://a.example\", \"https://b.example\"]\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load([]string{"--config", file, "--listen", ":9002"},
		env(map[string]string{"TUSGATE_EXPIRATION": "3h"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":9002" {
		t.Errorf("flag should win: listen = %q", c.Listen)
	}
	if c.Expiration != 3*time.Hour {
		t.Errorf("env should beat the file: expiration = %s", c.Expiration)
	}
	if c.MaxSize != 1<<30 {
		t.Errorf("file value should apply: max-size = %d", c.MaxSize)
	}
	if strings.Join(c.CORSOrigins, " ") != "https://a.example https://b.example" {
		t.Errorf("list from the file: %v", c.CORSOrigins)
	}
}

func TestInvalidValuesNameTheSetting(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--max-size", "abc"}, nil, "--max-size"},
		{[]string{"--expiration", "-1s"}, nil, "--expiration"},
		{[]string{"--lock-timeout", "0"}, nil, "--lock-timeout"},
		{[]string{"--base-path", "files"}, nil, "--base-path"},
		{[]string{"--store", "no-scheme"}, nil, "--store"},
		{nil, map[string]string{"TUSGATE_MAX_SIZE": "lots"}, "TUSGATE_MAX_SIZE"},
		{[]string{"--log-level", "loud"}, nil, "--log-level"},
		{[]string{"stray"}, nil, "stray"},
		{[]string{"--instance-name", "pod:7"}, nil, "--instance-name"},
		{nil, map[string]string{"TUSGATE_INSTANCE_NAME": strings.Repeat("p", 64)}, "TUSGATE_INSTANCE_NAME"},
	}
	for _, tc := range cases {
		_, err := Load(tc.args, env(tc.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%v, %v) = %v, want an error naming %s", tc.args, tc.env, err, tc.want)
		}
	}
}

func TestUnknownKeyInFileIsRejected(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte("maxsize: 10\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load([]string{"--config", file}, env(nil), io.Discard)
	if err == nil || !strings.Contains(err.Error(), `"maxsize"`) {
		t.Fatalf("want unknown-setting error, got %v", err)
	}
}

func TestEnvNames(t *testing.T) {
	if got := EnvName("cors-origins"); got != "TUSGATE_CORS_ORIGINS" {
		t.Fatal(got)
	}
}

func TestBooleanFlagsStandAlone(t *testing.T) {
	c, err := Load([]string{"--behind-proxy", "--pprof", "--metrics=false", "--listen", ":9003"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !c.BehindProxy || !c.Pprof || c.Metrics || c.Listen != ":9003" {
		t.Fatalf("bare boolean flags: %+v", c)
	}
	if _, err := Load([]string{"--pprof=maybe"}, env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "--pprof") {
		t.Fatalf("--pprof=maybe: err = %v, want one naming --pprof", err)
	}
	// A bare non-boolean flag still needs its value.
	if _, err := Load([]string{"--listen"}, env(nil), io.Discard); err == nil {
		t.Fatal("bare --listen was accepted")
	}
}

func TestLimitDefaults(t *testing.T) {
	c, err := Load(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.MinUploadRate != 512 || c.RateWindow != time.Minute || c.KeepaliveTimeout != time.Minute ||
		c.WriteTimeout != time.Minute || c.MaxHeaderBytes != 64<<10 || c.MaxMetadataSize != 4<<10 ||
		c.MaxConcatPartials != 100 || c.MaxRanges != 16 || c.MaxConnections != 0 {
		t.Fatalf("unexpected limit defaults: %+v", c)
	}
}

func TestInstanceName(t *testing.T) {
	c, err := Load([]string{"--instance-name", "tusgate-5d8f7-x2kq.eu_1"}, env(nil), io.Discard)
	if err != nil || c.InstanceName != "tusgate-5d8f7-x2kq.eu_1" {
		t.Fatalf("--instance-name: %q, %v", c.InstanceName, err)
	}
	// Unset it stays empty: the command fills in the host name.
	if c, err := Load(nil, env(nil), io.Discard); err != nil || c.InstanceName != "" {
		t.Fatalf("default instance name %q, %v; want empty", c.InstanceName, err)
	}
}
