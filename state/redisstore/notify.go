package redisstore

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Messages on an upload's channel.
const (
	msgRelease = "release" // a waiter asks the holder to let go
	msgUnlock  = "unlock"  // the holder let go; waiters should retry now
)

// notifier is the Store's one pattern subscription to all upload channels.
// It hands release requests to the local leases and unlock notices to the
// local waiters, so there is one connection per Store, not per lease.
type notifier struct {
	s  *Store
	ps *redis.PubSub

	mu      sync.Mutex
	leases  map[string]map[*lease]struct{}
	waiters map[string]map[chan struct{}]struct{}
}

func newNotifier(s *Store) *notifier {
	n := &notifier{
		s:       s,
		leases:  make(map[string]map[*lease]struct{}),
		waiters: make(map[string]map[chan struct{}]struct{}),
	}
	// go-redis keeps the subscription alive: it pings, reconnects and
	// subscribes again after a failure. A message published meanwhile is
	// lost; waiters repeat release requests and poll, so that only delays.
	n.ps = s.client.PSubscribe(context.Background(), s.channelPattern())
	msgs := n.ps.Channel()
	s.goBackground(func() {
		for m := range msgs {
			n.dispatch(m)
		}
	})
	return n
}

func (n *notifier) dispatch(m *redis.Message) {
	id, ok := n.s.idFromChannel(m.Channel)
	if !ok {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	switch m.Payload {
	case msgRelease:
		for l := range n.leases[id] {
			l.requestRelease()
		}
	case msgUnlock:
		for w := range n.waiters[id] {
			select {
			case w <- struct{}{}:
			default: // already woken
			}
		}
	}
}

func (n *notifier) addLease(l *lease) {
	n.mu.Lock()
	defer n.mu.Unlock()
	add(n.leases, l.id, l)
}

func (n *notifier) removeLease(l *lease) {
	n.mu.Lock()
	defer n.mu.Unlock()
	remove(n.leases, l.id, l)
}

// addWaiter returns a channel that receives a value when the upload's lock
// is released.
func (n *notifier) addWaiter(id string) chan struct{} {
	w := make(chan struct{}, 1)
	n.mu.Lock()
	defer n.mu.Unlock()
	add(n.waiters, id, w)
	return w
}

func (n *notifier) removeWaiter(id string, w chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	remove(n.waiters, id, w)
}

// close ends the subscription; the dispatch loop ends when its channel closes.
func (n *notifier) close() {
	if err := n.ps.Close(); err != nil {
		n.s.log.Debug("closing release subscription", "err", err)
	}
}

func add[K comparable](m map[string]map[K]struct{}, id string, k K) {
	set := m[id]
	if set == nil {
		set = make(map[K]struct{})
		m[id] = set
	}
	set[k] = struct{}{}
}

func remove[K comparable](m map[string]map[K]struct{}, id string, k K) {
	delete(m[id], k)
	if len(m[id]) == 0 {
		delete(m, id)
	}
}
