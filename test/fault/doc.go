// Package fault is the fault suite and the soak: real tus clients (the
// project's client/ and tus-js-client) against three tusgate replicas on
// Redis and an object store (S3 on MinIO; Azure Blob on Azurite), with
// replicas killed and stopped, Redis restarted and cut off, MinIO
// restarted, connections cut by toxiproxy and clients racing, checking the
// SHA-256 of every finished object against its source and that the store
// keeps nothing else.
package fault
