// Package azuree2e runs the tusgate binary against Azurite (Azure Blob
// backend) and Redis (state) and checks over HTTP and with the Azure SDK
// what reaches the container: exact bytes at block boundaries, blob headers
// from metadata, an upload spread over two replicas, many small PATCHes, a
// replica killed mid-PATCH, and Azurite restarted mid-upload.
//
// It needs TUSGATE_TEST_AZURE_CONNECTION_STRING and TUSGATE_TEST_REDIS_URL
// (see scripts/test.sh). Uploads use Redis database 10 and a blob prefix of
// their own per test, under azuree2e/.
package azuree2e
