// Package s3e2e runs the tusgate binary against MinIO (S3 backend) and Redis
// (state) and checks over HTTP what reaches the bucket: exact bytes at
// boundary sizes, object headers from metadata, uploads spread over two
// replicas, a replica killed mid-PATCH, a MinIO outage mid-upload, clean-up
// on termination and expiry, concatenation, interrupted bodies and the
// memory budget under concurrent uploads.
//
// It needs TUSGATE_TEST_S3_ENDPOINT, TUSGATE_TEST_S3_BUCKET,
// TUSGATE_TEST_REDIS_URL and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (see
// scripts/test.sh). Uploads use Redis database 9 and a bucket prefix of
// their own per test, under s3e2e/.
package s3e2e
