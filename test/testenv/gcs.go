package testenv

import "testing"

// GCS returns the bucket tests may use on the Cloud Storage emulator
// (fake-gcs-server started by scripts/services/gcs.sh), from
// TUSGATE_TEST_GCS_BUCKET; the emulator's address is STORAGE_EMULATOR_HOST,
// which the SDK (and a tusgate started by the test) reads itself. The
// service script creates the bucket.
//
// When either is unset the test is skipped, or fails when
// TUSGATE_REQUIRE_SERVICES=1 so CI never skips silently.
func GCS(t testing.TB) (emulatorHost, bucket string) {
	t.Helper()
	v := Getenv(t, "STORAGE_EMULATOR_HOST and TUSGATE_TEST_GCS_BUCKET are not both set "+
		"(start fake-gcs-server with scripts/services/gcs.sh)", "STORAGE_EMULATOR_HOST", "TUSGATE_TEST_GCS_BUCKET")
	return v[0], v[1]
}
