// Package redisstore keeps tusgate's upload state in Redis and grants the
// per-upload, fenced leases that let many stateless replicas share it.
//
// One *Store implements both state.Store and state.Locker on a single
// redis.UniversalClient, so standalone Redis, Sentinel and Cluster all work
// from one URL (see Open).
//
// # Key layout
//
// Every key of one upload carries the hash tag {ID}, so all of them live in
// one Cluster slot and the Lua scripts that touch them stay legal there
// (P is Options.Prefix, "tusgate" by default):
//
//	P:{ID}:u   hash      the record (offset, length, metadata, handles as "h:<name>", ...)
//	P:{ID}:p   hash      the manifest: part number -> JSON {o,s,e,c}
//	P:{ID}:l   string    the lock: "TOKEN:INSTANCE" (INSTANCE is the holder's ID, "NAME@HEX" with an instance name), PX = lease TTL
//	P:{ID}:f   string    fence counter (INCR per grant); lives as long as the record
//	P:{ID}:w   string    "someone waits" marker, so Unlock publishes only when useful
//	P:{ID}:c   channel   pub/sub: "release" (to the holder), "unlock" (to waiters)
//	P:expiry   zset      expiry index: ID scored by ExpiresAt in unix ms
//	P:live:INSTANCE     string    one per process: its liveness key (see liveness.go)
//
// Record, manifest and fence counter expire together: an unfinished upload at
// ExpiresAt + Options.ExpiryGrace (never sooner than the grace from the last
// write, so the sweeper can still read its backend handles), a finished one
// Options.Retention after it finished, one without expiry never.
//
// The expiry index is in another slot, so it is updated next to the scripts
// (same pipeline), never inside them. It may therefore hold stale or early
// entries; Expired re-checks each candidate against its record and drops or
// reschedules what is not really expired. Nothing ever scans the keyspace.
package redisstore
