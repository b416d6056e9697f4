package redisstore

// Crash stops s as SIGKILL would stop its process: renewals and the
// liveness refresh end, nothing is unlocked and the liveness key is left to
// expire.
func Crash(s *Store) error { return s.shutdown(false) }

// InstanceID is the ID s writes into its lock grants.
func InstanceID(s *Store) string { return s.live.id }
