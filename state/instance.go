package state

import (
	"errors"
	"strings"
)

// MaxInstanceNameLen bounds an instance name: it travels in every lock
// record and in listings, so it must stay short (a Kubernetes pod's host
// name is at most 63 characters).
const MaxInstanceNameLen = 63

// CheckInstanceName reports whether name may name a process in lock
// records: 1 to MaxInstanceNameLen characters of A-Z a-z 0-9 . _ -, so it
// cannot break a Redis key, a hash tag or a log line.
func CheckInstanceName(name string) error {
	if name == "" || len(name) > MaxInstanceNameLen {
		return errors.New("instance name must have 1 to 63 characters")
	}
	if strings.IndexFunc(name, func(r rune) bool { return !instanceNameChar(r) }) >= 0 {
		return errors.New("instance name may hold only A-Z a-z 0-9 . _ -")
	}
	return nil
}

// InstanceNameFrom turns a host name into a valid instance name: other
// characters become '-', and it is cut to MaxInstanceNameLen; "" stays "".
func InstanceNameFrom(host string) string {
	name := strings.Map(func(r rune) rune {
		if instanceNameChar(r) {
			return r
		}
		return '-'
	}, host)
	if len(name) > MaxInstanceNameLen {
		name = name[:MaxInstanceNameLen]
	}
	return name
}

func instanceNameChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
}

// How a waiting Lock came to hold an upload that another lease had held.
type Takeover string

const (
	// TakeoverReleased: the holder let go (asked to, or done), or its lease
	// ran out in a store that cannot tell the two apart.
	TakeoverReleased Takeover = "released"
	// TakeoverBroken: the holder's process was found dead (no liveness
	// signal) and its lease was deleted.
	TakeoverBroken Takeover = "broken"
	// TakeoverLapsed: the holder stopped renewing and its lease ran out.
	TakeoverLapsed Takeover = "lapsed"
)

// Takeovers lists every Takeover value (a closed set for metric labels).
func Takeovers() []Takeover { return []Takeover{TakeoverReleased, TakeoverBroken, TakeoverLapsed} }

// LockObserver hears what a Locker's waiters do, for metrics; stores call
// it when one is configured. Calls must be quick and safe for concurrent use.
type LockObserver interface {
	// ReleaseSent: a Lock found the upload held and asked its holder to
	// let go (once per Lock call, however often the request is repeated).
	ReleaseSent()
	// TookOver: a Lock that had found the upload held was granted it.
	TookOver(how Takeover)
}
