// Package fault is the fault suite and the soak: real tus clients against
// three tusgate replicas on Redis and S3 (MinIO), with replicas killed and
// stopped, Redis restarted and cut off, and clients racing, checking the
// SHA-256 of every finished object against its source and that the bucket
// keeps nothing else.
package fault
