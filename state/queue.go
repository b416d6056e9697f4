package state

import (
	"context"
	"errors"
	"time"
)

// ErrQueueFull: the queue holds its maximum number of messages.
var ErrQueueFull = errors.New("queue is full")

// MaxMessageSize bounds one queued message.
const MaxMessageSize = 64 << 10

// Message is one entry of a Queue.
type Message struct {
	ID   string
	Body []byte
	// Attempts counts the claims of this message, this one included.
	Attempts int
}

// Queue is a durable queue of small messages (hook events owed to
// receivers) that every process sharing the store drains, so an event
// owed by a process that dies is delivered by another. Delivery is at
// least once: a claimer that dies before Ack lets the message reappear.
type Queue interface {
	// Enqueue stores body (at most MaxMessageSize bytes), due at once.
	// A full queue answers ErrQueueFull.
	Enqueue(ctx context.Context, body []byte) error
	// Claim returns up to n due messages and hides each from other
	// claimers for hide.
	Claim(ctx context.Context, n int, hide time.Duration) ([]Message, error)
	// Ack removes a delivered message; an unknown ID is not an error.
	Ack(ctx context.Context, id string) error
	// Retry makes a claimed message due again after delay.
	Retry(ctx context.Context, id string, delay time.Duration) error
}
