// Package gcse2e runs the tusgate binary against fake-gcs-server (the GCS
// backend) and Redis (state) and checks over HTTP and with the Cloud
// Storage SDK what reaches the bucket: exact bytes at part boundaries,
// object headers from metadata, an upload spread over two replicas, more
// PATCHes than the component cap, concatenation by compose, termination
// and expiry removing part objects, signed-URL downloads, a replica killed
// mid-PATCH, and a missing bucket at start-up.
//
// It needs STORAGE_EMULATOR_HOST, TUSGATE_TEST_GCS_BUCKET and
// TUSGATE_TEST_REDIS_URL (see scripts/test.sh). Uploads use Redis database
// 11 and an object prefix of their own per test, under gcse2e/.
package gcse2e
