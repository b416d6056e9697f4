package s3store

import (
	"errors"
	"testing"
	"time"

	"github.com/tusgate/tusgate/backends"
	"github.com/tusgate/tusgate/backends/multipart"
	"github.com/tusgate/tusgate/test/backendtest"
)

func TestParseURL(t *testing.T) {
	c := backendtest.ParsesURL(t, ParseURL, "s3://my-bucket/uploads?endpoint=http://127.0.0.1:9000&region=eu-west-1&path_style=true"+
		"&min_part_size=5MiB&part_size=16MiB&equal_parts=true&concurrency=4&presign=15m&checksum=sha256&max_connections=48")
	want := Config{
		Bucket: "my-bucket", Prefix: "uploads/", Endpoint: "http://127.0.0.1:9000", Region: "eu-west-1",
		PathStyle: true, StoreOptions: multipart.StoreOptions{
			MinPartSize: 5 * MiB, PartSize: 16 * MiB, EqualParts: true, Concurrency: 4,
			PresignTTL: 15 * time.Minute, MaxObjectSize: MaxObjectSize, Checksum: ChecksumSHA256, MaxConnections: 48,
		},
	}
	if c != want {
		t.Fatalf("got  %+v\nwant %+v", c, want)
	}
}

func TestParseURLDefaults(t *testing.T) {
	c := backendtest.ParsesURL(t, ParseURL, "s3://b")
	if c.Prefix != "" || c.MinPartSize != DefaultMinPartSize || c.PartSize != DefaultPartSize ||
		c.Concurrency != DefaultConcurrency || c.MaxObjectSize != MaxObjectSize || c.PresignTTL != 0 ||
		c.Checksum != ChecksumCRC32C {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestParseURLRejects(t *testing.T) {
	backendtest.RejectsURLs(t, ParseURL,
		"http://bucket/",
		"s3:///prefix",
		"s3://b?part_size=lots",
		"s3://b?partsize=5MiB", // typo must not be ignored
		"s3://b?min_part_size=10MiB&part_size=5MiB",
		"s3://b?part_size=6GiB",
		"s3://b?concurrency=0x",
		"s3://b?max_object_size=6TiB",
		"s3://b?presign=8d",
		"s3://b?max_connections=-1",
		"s3://b?checksum=md5",
		"s3://b?unsigned_payload=true", // replaced by checksum=none
	)
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"5242880": 5 * MiB, "5MiB": 5 * MiB, "5M": 5 * MiB, "5MB": 5e6, "1GiB": GiB, "2 KiB": 2 * KiB, "1TiB": TiB,
	} {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MiB", "5XB", "-1", "99999999999TiB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}

func TestPartSizeTable(t *testing.T) {
	def, err := (Config{Bucket: "b"}).normalize()
	if err != nil {
		t.Fatal(err)
	}
	equal := def
	equal.EqualParts = true
	small := def // what the tests against MinIO use
	small.PartSize = 5 * MiB
	capped := def
	capped.MaxObjectSize = 100 * GiB

	cases := []struct {
		name   string
		cfg    Config
		length int64
		want   int64
	}{
		{"empty", def, 0, 8 * MiB},
		{"one byte", def, 1, 8 * MiB},
		{"5 MiB", def, 5 * MiB, 8 * MiB},
		{"50 GiB", def, 50 * GiB, 8 * MiB},        // 6400 parts of the preferred size
		{"100 GiB", def, 100 * GiB, 11 * MiB},     // 10.24 MiB needed, rounded up to a MiB
		{"5 TiB", def, 5 * TiB, 525 * MiB},        // 524.29 MiB needed
		{"deferred", def, -1, 525 * MiB},          // plans for 5 TiB
		{"deferred capped", capped, -1, 11 * MiB}, // plans for max_object_size
		{"min 5 MiB, 1 byte", small, 1, 5 * MiB},
		{"min 5 MiB, 50 GiB", small, 50 * GiB, 6 * MiB},
		{"equal, 50 GiB", equal, 50 * GiB, 8 * MiB},
		{"equal, deferred", equal, -1, 525 * MiB},
	}
	for _, c := range cases {
		got, err := c.cfg.PartSizeFor(c.length)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got != c.want {
			t.Errorf("%s: part size %d (%.2f MiB), want %d MiB", c.name, got, float64(got)/MiB, c.want/MiB)
		}
		planned := c.length
		if planned < 0 {
			planned = c.cfg.MaxObjectSize
		}
		if parts := ceilDivTest(max(planned, 1), got); parts > MaxParts {
			t.Errorf("%s: %d parts exceed %d", c.name, parts, MaxParts)
		}
		if got < c.cfg.MinPartSize || got > MaxPartSize {
			t.Errorf("%s: part size %d outside S3 limits", c.name, got)
		}
	}
	if _, err := def.PartSizeFor(5*TiB + 1); !errors.Is(err, backends.ErrTooLarge) {
		t.Errorf("5 TiB + 1: err = %v, want ErrTooLarge", err)
	}
	if _, err := capped.PartSizeFor(100*GiB + 1); !errors.Is(err, backends.ErrTooLarge) {
		t.Errorf("above max_object_size: err = %v, want ErrTooLarge", err)
	}
}
func ceilDivTest(a, b int64) int64 { return (a + b - 1) / b }
