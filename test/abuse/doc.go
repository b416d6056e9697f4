// Package abuse attacks the built tusgate binary the way a hostile or buggy
// client would (issue 7), over HTTP and raw sockets, one test per finding:
//
//  1. invented methods and huge X-HTTP-Method-Override values cannot grow
//     the metric label set, the /metrics body or the process's memory;
//  2. clients that vanish during a POST leave nothing the sweeper cannot
//     reach (files and bbolt; S3 and Redis);
//  3. DELETEs reset mid-way leave no record without bytes and no bytes
//     (files and bbolt; S3 and Redis);
//  4. Upload-Concat cannot list a partial twice, list too many partials or
//     overflow the length or --max-size;
//  5. idle keep-alive connections, stalled downloads and trickling uploads
//     are cut, and --max-connections keeps file descriptors bounded;
//  6. Upload-Metadata, Upload-Concat and the header block have size caps;
//  7. Range floods are ignored and bytes=-0 is unsatisfiable;
//  8. client faults get 4xx without ERROR log lines, and error bodies carry
//     no internal text;
//  9. Location is built only from a valid host;
//  10. boolean settings work as bare flags;
//  11. inline Content-Disposition matches exact media types;
//  12. impossible checksums are 460, header plus trailer checksums are 400;
//  13. repeated single-valued tus headers are 400, and CORS exposes the
//     download headers.
//
// Each test asserts the status a client gets and that nothing was stored or
// left behind (data files, bbolt records, bucket listings, multipart
// uploads, Redis records). The S3 + Redis cases use the services named by
// TUSGATE_TEST_S3_ENDPOINT, TUSGATE_TEST_S3_BUCKET, TUSGATE_TEST_REDIS_URL
// and AWS_* (see scripts/test.sh) and are skipped without them, unless
// TUSGATE_REQUIRE_SERVICES=1. Bursts are bounded (a few hundred requests,
// loopback only); deadlines only bound waits for events and never time
// the server.
package abuse
