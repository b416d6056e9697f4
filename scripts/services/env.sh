# Shared by scripts/test.sh and scripts/soak.sh (sourced, not run): starts
# the test services natively on loopback, each in its own directory under
# $services, stops them on exit, and exports what the tests read to find them.
# Ports and credentials follow the services' own overrides (REDIS_PORT,
# MINIO_PORT, AZURITE_BLOB_PORT, GCS_PORT, MINIO_ROOT_USER, ...).
#
#   services_start NAME...   start redis, minio, azurite and/or gcs
#   services_stop            stop those started
#   services_export          export TUSGATE_TEST_* and the SDKs' variables

export AZURITE_BLOB_PORT="${AZURITE_BLOB_PORT:-10000}"
export GCS_PORT="${GCS_PORT:-4443}"
services_started=()

services_start() {
	local s
	for s in "$@"; do
		services_started+=("$s")
		bash scripts/services/"$s".sh "$services/$s"
	done
}

services_stop() {
	local s
	for s in "${services_started[@]}"; do
		bash scripts/services/"$s".sh stop "$services/$s" >/dev/null 2>&1 || true
	done
}

services_export() {
	export TUSGATE_REQUIRE_SERVICES=1
	export TUSGATE_TEST_REDIS_URL="redis://127.0.0.1:${REDIS_PORT:-6390}/0"
	export TUSGATE_TEST_S3_ENDPOINT="http://127.0.0.1:${MINIO_PORT:-9000}"
	export TUSGATE_TEST_S3_BUCKET="${MINIO_BUCKET:-tusgate-test}"
	export AWS_ACCESS_KEY_ID="${MINIO_ROOT_USER:-minioadmin}"
	export AWS_SECRET_ACCESS_KEY="${MINIO_ROOT_PASSWORD:-minioadmin}"
	export AWS_REGION=us-east-1
	# Azurite's well-known development account (not a secret).
	export TUSGATE_TEST_AZURE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:${AZURITE_BLOB_PORT}/devstoreaccount1;"
	export TUSGATE_TEST_AZURE_CONTAINER="${AZURITE_CONTAINER:-tusgate-test}"
	# The Cloud Storage SDK (in tests and in tusgate) talks to the emulator.
	export STORAGE_EMULATOR_HOST="127.0.0.1:${GCS_PORT}"
	export TUSGATE_TEST_GCS_BUCKET="${GCS_BUCKET:-tusgate-test}"
}
