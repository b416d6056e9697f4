// Package ietf runs the IETF resumable upload draft end to end against the
// tusgate binary: tus-js-client 4.3.1 with protocol 'ietf-draft-03'
// (interop 5) and 'ietf-draft-05' (interop 6) through two replicas on Redis
// and S3 (MinIO) behind a round-robin reverse proxy, and the takeover of a
// stalled version 8 append by a request to the other replica. The draft's other
// behaviour, and interop version 8 with a draft -11 client, is tested over
// HTTP in package gateway (ietf_test.go, ietf_client_test.go).
package ietf
