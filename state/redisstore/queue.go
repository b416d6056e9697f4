package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tusgate/tusgate/state"
)

var _ state.Queue = (*Store)(nil)

// The queue is three keys in one hash slot: a sorted set of message IDs by
// due time (ms, server clock), the bodies and the attempt counts. Scripts
// read the server's clock so replicas with skewed clocks agree.
type queueKeys struct{ due, body, attempts string }

func (s *Store) queueKeys() queueKeys {
	base := s.opts.Prefix + ":{queue}:"
	return queueKeys{due: base + "due", body: base + "body", attempts: base + "att"}
}

func (k queueKeys) list() []string { return []string{k.due, k.body, k.attempts} }

const serverNowMs = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

// KEYS: due, body, attempts. ARGV: id, body, max messages.
var enqueueScript = redis.NewScript(serverNowMs + `
if redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
return 1
`)

// KEYS: due, body, attempts. ARGV: n, hide ms. Returns id, body, attempts triples.
var claimScript = redis.NewScript(serverNowMs + `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local out = {}
for _, id in ipairs(ids) do
  local body = redis.call('HGET', KEYS[2], id)
  if body then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id)
    local n = redis.call('HINCRBY', KEYS[3], id, 1)
    table.insert(out, id)
    table.insert(out, body)
    table.insert(out, n)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
`)

// KEYS: due. ARGV: id, delay ms.
var retryScript = redis.NewScript(serverNowMs + `
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
return 1
`)

// DefaultMaxQueued bounds the hook queue when Options.MaxQueued is zero.
const DefaultMaxQueued = 100_000

// Enqueue implements state.Queue.
func (s *Store) Enqueue(ctx context.Context, body []byte) error {
	if len(body) > state.MaxMessageSize {
		return fmt.Errorf("redisstore: enqueue: message of %d bytes exceeds %d", len(body), state.MaxMessageSize)
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	k := s.queueKeys()
	ok, err := enqueueScript.Run(ctx, s.client, k.list(), hex.EncodeToString(b[:]), body, s.maxQueued()).Int()
	if err != nil {
		return s.fail("enqueue", err)
	}
	if ok == 0 {
		return fmt.Errorf("redisstore: enqueue: %w", state.ErrQueueFull)
	}
	return nil
}

func (s *Store) maxQueued() int {
	if s.opts.MaxQueued > 0 {
		return s.opts.MaxQueued
	}
	return DefaultMaxQueued
}

// Claim implements state.Queue.
func (s *Store) Claim(ctx context.Context, n int, hide time.Duration) ([]state.Message, error) {
	if n <= 0 {
		return nil, nil
	}
	res, err := claimScript.Run(ctx, s.client, s.queueKeys().list(), n, hide.Milliseconds()).Slice()
	if err != nil {
		return nil, s.fail("claim", err)
	}
	out := make([]state.Message, 0, len(res)/3)
	for i := 0; i+2 < len(res); i += 3 {
		id, _ := res[i].(string)
		body, _ := res[i+1].(string)
		att, _ := res[i+2].(int64)
		out = append(out, state.Message{ID: id, Body: []byte(body), Attempts: int(att)})
	}
	return out, nil
}

// Ack implements state.Queue.
func (s *Store) Ack(ctx context.Context, id string) error {
	k := s.queueKeys()
	_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, k.due, id)
		p.HDel(ctx, k.body, id)
		p.HDel(ctx, k.attempts, id)
		return nil
	})
	if err != nil {
		return s.fail("ack", err)
	}
	return nil
}

// Retry implements state.Queue.
func (s *Store) Retry(ctx context.Context, id string, delay time.Duration) error {
	if err := retryScript.Run(ctx, s.client, []string{s.queueKeys().due}, id, delay.Milliseconds()).Err(); err != nil {
		return s.fail("retry", err)
	}
	return nil
}
