package redisstore

import "github.com/redis/go-redis/v9"

// Script results other than success. Scripts return 1 on success.
const (
	resNotFound = -1
	resFenced   = -2
	resConflict = -3
)

// holdsSrc defines holds(lock, tok): whether the lock key holds the grant
// tok. A lock value is "TOKEN:INSTANCE" (the holder's process, see
// liveness.go); a bare token is accepted too.
const holdsSrc = `
local function holds(lock, tok)
  local v = redis.call('GET', lock)
  if not v then return false end
  return v == tok or string.sub(v, 1, #tok + 1) == tok .. ':'
end
`

// settleTTL gives the record its lifetime and makes the manifest and the
// fence counter follow it (see the package doc). Time comes from the server
// so replicas with skewed clocks agree.
const settleTTL = `
local function settle_ttl(u, p, f, grace, retention)
  if redis.call('HGET', u, 'fin') == '1' then
    redis.call('PEXPIRE', u, retention)
  else
    local exp = tonumber(redis.call('HGET', u, 'exp') or '0') or 0
    if exp == 0 then
      redis.call('PERSIST', u)
    else
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      local at = math.floor(exp / 1000000)
      if at < now then at = now end
      redis.call('PEXPIREAT', u, string.format('%.0f', at + tonumber(grace)))
    end
  end
  local pttl = redis.call('PTTL', u)
  for _, k in ipairs({p, f}) do
    if pttl == -1 then
      redis.call('PERSIST', k)
    elseif pttl > 0 then
      redis.call('PEXPIRE', k, pttl)
    end
  end
end
`

// createSrc stores a new record unless the ID is taken.
// KEYS: record, manifest, fence. ARGV: grace ms, retention ms, field/value pairs...
const createSrc = settleTTL + `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2])
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
settle_ttl(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2])
return 1
`

// commitSrc applies a state.Change like (*state.Upload).Apply, only while
// the caller's token holds the lock and the offset is the expected one.
// KEYS: record, manifest, lock, fence.
// ARGV: token, expected offset, new offset, length or empty, expiry (unix ns,
// '0' never) or empty, finished '1'/'0', grace ms, retention ms, number of
// handle pairs n, n name/value pairs (empty value deletes), then part
// number/encoded part pairs.
const commitSrc = settleTTL + holdsSrc + `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if not holds(KEYS[3], ARGV[1]) then return -2 end
if redis.call('HGET', KEYS[1], 'off') ~= ARGV[2] then return -3 end
redis.call('HSET', KEYS[1], 'off', ARGV[3])
if ARGV[4] ~= '' and tonumber(redis.call('HGET', KEYS[1], 'len')) < 0 then
  redis.call('HSET', KEYS[1], 'len', ARGV[4])
end
local i = 10
for _ = 1, tonumber(ARGV[9]) do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', KEYS[1], 'h:' .. ARGV[i])
  else
    redis.call('HSET', KEYS[1], 'h:' .. ARGV[i], ARGV[i + 1])
  end
  i = i + 2
end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'exp', ARGV[5]) end
if ARGV[6] == '1' then redis.call('HSET', KEYS[1], 'fin', '1') end
while i < #ARGV do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  i = i + 2
end
settle_ttl(KEYS[1], KEYS[2], KEYS[4], ARGV[7], ARGV[8])
return 1
`

// deleteSrc removes record and manifest while the caller's token is
// current. The fence counter stays for a while so late holders stay fenced.
// KEYS: record, manifest, lock, fence. ARGV: token, fence TTL ms.
const deleteSrc = holdsSrc + `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if not holds(KEYS[3], ARGV[1]) then return -2 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('PEXPIRE', KEYS[4], ARGV[2])
return 1
`

// stopSrc marks an unfinished record stopped, with the reason of the first
// stop; it needs no lock (see state.Store.Stop). HSET keeps the record's TTL.
// KEYS: record. ARGV: reason.
const stopSrc = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HGET', KEYS[1], 'fin') ~= '1' and redis.call('HGET', KEYS[1], 'stop') ~= '1' then
  redis.call('HSET', KEYS[1], 'stop', '1', 'stopr', ARGV[1])
end
return 1
`

// lockSrc grants the lock with a new fencing token (returned as an
// integer, stored as "TOKEN:INSTANCE"), or returns the holder's lock value
// (a string) when it is held, then optionally marks that someone waits and
// asks the holder to release.
// KEYS: lock, fence, record, waiting marker.
// ARGV: lease ms, fence TTL ms without record, ask '1'/'0', channel, marker
// ms, instance ID.
const lockSrc = `
local held = redis.call('GET', KEYS[1])
if held then
  if ARGV[3] == '1' then
    redis.call('SET', KEYS[4], '1', 'PX', ARGV[5])
    redis.call('PUBLISH', ARGV[4], 'release')
  end
  return held
end
local tok = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], tok .. ':' .. ARGV[6], 'PX', ARGV[1])
local pttl = redis.call('PTTL', KEYS[3])
if pttl == -1 then
  redis.call('PERSIST', KEYS[2])
elseif pttl > 0 then
  redis.call('PEXPIRE', KEYS[2], pttl)
elseif redis.call('PTTL', KEYS[2]) == -1 then
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return tok
`

// renewSrc extends the lock only while it still holds the token.
// KEYS: lock. ARGV: token, lease ms.
const renewSrc = holdsSrc + `
if holds(KEYS[1], ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`

// unlockSrc deletes the lock only if it still holds the token, and wakes
// waiters when there are any.
// KEYS: lock, waiting marker. ARGV: token, channel.
const unlockSrc = holdsSrc + `
if not holds(KEYS[1], ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('PUBLISH', ARGV[2], 'unlock')
end
return 1
`

// breakSrc deletes the lock only if it still holds exactly the value a
// waiter saw with a dead holder (see liveness.go).
// KEYS: lock. ARGV: lock value.
const breakSrc = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`

// liveSrc extends the liveness key, or recreates it and returns 0 when it
// had expired (the caller then treats its leases as broken).
// KEYS: liveness key. ARGV: TTL ms.
const liveSrc = `
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 1 then return 1 end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
return 0
`

// scripts are the compiled scripts of one Store; EVALSHA with an EVAL
// fallback when the server's script cache is empty (after a restart).
type scripts struct {
	create, commit, delete, stop, lock, renew, unlock, breakLock, live *redis.Script
}

func newScripts() scripts {
	return scripts{
		create:    redis.NewScript(createSrc),
		commit:    redis.NewScript(commitSrc),
		delete:    redis.NewScript(deleteSrc),
		stop:      redis.NewScript(stopSrc),
		lock:      redis.NewScript(lockSrc),
		renew:     redis.NewScript(renewSrc),
		unlock:    redis.NewScript(unlockSrc),
		breakLock: redis.NewScript(breakSrc),
		live:      redis.NewScript(liveSrc),
	}
}
