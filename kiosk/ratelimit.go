package kiosk

import (
	"strings"
	"sync"
	"time"

	"github.com/hazgate/hazgate/clock"
)

// limiter counts failed sign-ins per account and per client address in a
// sliding window, on the injected clock.
type limiter struct {
	clk clock.Clock
	lim LoginLimit

	mu        sync.Mutex
	byAccount map[string][]time.Time // failure times, oldest first
	byIP      map[string][]time.Time
}

// maxTracked bounds the keys kept; past it, keys with no failure left in
// the window are dropped.
const maxTracked = 10000

func newLimiter(clk clock.Clock, lim LoginLimit) *limiter {
	return &limiter{clk: clk, lim: lim, byAccount: map[string][]time.Time{}, byIP: map[string][]time.Time{}}
}

func accountKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// allow reports whether a sign-in for account from ip may be tried now and,
// when not, how long until it may.
func (l *limiter) allow(account, ip string) (ok bool, retry time.Duration) {
	now := l.clk.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.counts(account, ip) {
		ts := l.prune(c.m, c.key, now)
		if len(ts) >= c.limit {
			retry = max(retry, ts[len(ts)-c.limit].Add(l.lim.Window).Sub(now))
		}
	}
	return retry <= 0, retry
}

// fail records a failed sign-in; it reports whether this failure reached a
// limit (the account or the address is now refused).
func (l *limiter) fail(account, ip string) (limited bool) {
	now := l.clk.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.counts(account, ip) {
		if len(c.m) >= maxTracked {
			l.sweep(c.m, now)
		}
		ts := append(l.prune(c.m, c.key, now), now)
		c.m[c.key] = ts
		if len(ts) == c.limit {
			limited = true
		}
	}
	return limited
}

// count is one of the failure counts a sign-in is held to.
type count struct {
	m     map[string][]time.Time
	key   string
	limit int
}

// counts are the account's and the address's failure counts.
func (l *limiter) counts(account, ip string) [2]count {
	return [2]count{{l.byAccount, accountKey(account), l.lim.PerAccount}, {l.byIP, ip, l.lim.PerIP}}
}

// succeed clears an account's failures (not the address's).
func (l *limiter) succeed(account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.byAccount, accountKey(account))
}

// prune drops a key's failures older than the window and returns the rest.
func (l *limiter) prune(m map[string][]time.Time, key string, now time.Time) []time.Time {
	ts := m[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.lim.Window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(m, key)
		return nil
	}
	m[key] = ts
	return ts
}

func (l *limiter) sweep(m map[string][]time.Time, now time.Time) {
	for k := range m {
		l.prune(m, k, now)
	}
}
