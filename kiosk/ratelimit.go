package kiosk

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hazgate/hazgate/clock"
)

// limiter counts failed sign-ins in a sliding window, on the injected
// clock: per account and client address together, and per address. An
// account is never locked from every address at once: someone failing a
// supervisor's password from one address locks only that address out of
// that account, so the supervisor still signs in from their own.
//
// Each pair's failures carry the account's store.Operator.Unlocks they were
// counted under; a later unlock (a supervisor at the kiosk, or `hazgate
// operator unlock` while the kiosk runs) makes them forgotten.
type limiter struct {
	clk clock.Clock
	lim LoginLimit

	mu     sync.Mutex
	byPair map[pair]*pairFailures
	byIP   map[string][]time.Time // failure times, oldest first
}

// pair is an account (compared as accountKey) and a client address.
type pair struct{ account, ip string }

type pairFailures struct {
	name    string      // the account as typed at the latest failure
	at      []time.Time // oldest first
	unlocks int64       // the account's unlocks when they were counted
}

// maxTracked bounds the keys kept; past it, keys with no failure left in
// the window are dropped.
const maxTracked = 10000

func newLimiter(clk clock.Clock, lim LoginLimit) *limiter {
	return &limiter{clk: clk, lim: lim, byPair: map[pair]*pairFailures{}, byIP: map[string][]time.Time{}}
}

func accountKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// allow reports whether a sign-in for account from ip may be tried now and,
// when not, how long until it may. unlocks is the account's
// store.Operator.Unlocks (0 for a name that is no account).
func (l *limiter) allow(account, ip string, unlocks int64) (ok bool, retry time.Duration) {
	now := l.clk.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if ts := l.pairTimes(pair{accountKey(account), ip}, unlocks, now); len(ts) >= l.lim.PerAccount {
		retry = ts[len(ts)-l.lim.PerAccount].Add(l.lim.Window).Sub(now)
	}
	if ts := l.prune(ip, now); len(ts) >= l.lim.PerIP {
		retry = max(retry, ts[len(ts)-l.lim.PerIP].Add(l.lim.Window).Sub(now))
	}
	return retry <= 0, retry
}

// fail records a failed sign-in; it reports whether this failure reached a
// limit (the account from this address, or the address, is now refused).
func (l *limiter) fail(account, ip string, unlocks int64) (limited bool) {
	now := l.clk.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.byPair) >= maxTracked || len(l.byIP) >= maxTracked {
		l.sweep(now)
	}
	k := pair{accountKey(account), ip}
	ts := append(l.pairTimes(k, unlocks, now), now)
	l.byPair[k] = &pairFailures{name: strings.TrimSpace(account), at: ts, unlocks: unlocks}
	its := append(l.prune(ip, now), now)
	l.byIP[ip] = its
	return len(ts) == l.lim.PerAccount || len(its) == l.lim.PerIP
}

// succeed clears the account's failures from this address (not the
// address's own count).
func (l *limiter) succeed(account, ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.byPair, pair{accountKey(account), ip})
}

// unlock forgets the account's failures from every address and returns
// the addresses it was locked out from.
func (l *limiter) unlock(account string) (was []string) {
	now := l.clk.Now()
	key := accountKey(account)
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, f := range l.byPair {
		if k.account == key {
			if l.inWindow(f.at, now) >= l.lim.PerAccount {
				was = append(was, k.ip)
			}
			delete(l.byPair, k)
		}
	}
	slices.Sort(was)
	return was
}

// lockout is an account locked out from an address, or (Account "") an
// address locked out of every account, until Until.
type lockout struct {
	Account  string    `json:"account"`
	IP       string    `json:"ip"`
	Failures int       `json:"failures"`
	Until    time.Time `json:"until"`
}

// lockouts lists what is locked now, by account then address.
func (l *limiter) lockouts() []lockout {
	now := l.clk.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []lockout{}
	for k, f := range l.byPair {
		ts := f.at[len(f.at)-l.inWindow(f.at, now):]
		if len(ts) >= l.lim.PerAccount {
			out = append(out, lockout{Account: f.name, IP: k.ip, Failures: len(ts), Until: ts[len(ts)-l.lim.PerAccount].Add(l.lim.Window)})
		}
	}
	for ip, all := range l.byIP {
		ts := all[len(all)-l.inWindow(all, now):]
		if len(ts) >= l.lim.PerIP {
			out = append(out, lockout{IP: ip, Failures: len(ts), Until: ts[len(ts)-l.lim.PerIP].Add(l.lim.Window)})
		}
	}
	slices.SortFunc(out, func(a, b lockout) int {
		if c := strings.Compare(a.Account, b.Account); c != 0 {
			return c
		}
		return strings.Compare(a.IP, b.IP)
	})
	return out
}

// inWindow counts the failures of ts (oldest first) still in the window.
func (l *limiter) inWindow(ts []time.Time, now time.Time) int {
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.lim.Window {
		i++
	}
	return len(ts) - i
}

// pairTimes returns a pair's failures in the window, forgetting them when
// the account was unlocked since they were counted.
func (l *limiter) pairTimes(k pair, unlocks int64, now time.Time) []time.Time {
	f, ok := l.byPair[k]
	if !ok {
		return nil
	}
	if f.unlocks < unlocks {
		delete(l.byPair, k)
		return nil
	}
	ts := f.at[len(f.at)-l.inWindow(f.at, now):]
	if len(ts) == 0 {
		delete(l.byPair, k)
		return nil
	}
	f.at = ts
	return ts
}

// prune drops an address's failures older than the window and returns the
// rest.
func (l *limiter) prune(ip string, now time.Time) []time.Time {
	ts := l.byIP[ip]
	ts = ts[len(ts)-l.inWindow(ts, now):]
	if len(ts) == 0 {
		delete(l.byIP, ip)
		return nil
	}
	l.byIP[ip] = ts
	return ts
}

func (l *limiter) sweep(now time.Time) {
	for k, f := range l.byPair {
		if l.inWindow(f.at, now) == 0 {
			delete(l.byPair, k)
		}
	}
	for ip := range l.byIP {
		l.prune(ip, now)
	}
}
