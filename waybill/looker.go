package waybill

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/store"
)

// DefaultMaxAge is how old a copy (the registry's, or a cached answer) may
// be and still be judged without asking the service, when
// Looker.MaxAge is zero.
const DefaultMaxAge = 15 * time.Minute

// Store is what the Looker reads and keeps: the registry's index and the
// cache of answers. *store.Store implements it.
type Store interface {
	Lookup(ctx context.Context, ev checks.Evidence) (*registry.Index, error)
	CachedWaybill(ctx context.Context, number string) (registry.Waybill, time.Time, bool, error)
	CacheWaybill(ctx context.Context, w registry.Waybill, fetchedAt time.Time) error
}

var (
	_ Store              = (*store.Store)(nil)
	_ lane.WaybillLooker = (*Looker)(nil)
)

// Looker implements lane.WaybillLooker over the registry, the cache and
// the service:
//
//   - the registry's copy, when the registry was synced within MaxAge, is
//     judged without asking;
//   - else a cached answer fetched within MaxAge;
//   - else the service is asked, within its timeout; its answer is cached
//     and judged;
//   - a service that does not answer (down, slow, an unusable answer)
//     leaves the newest copy held (the registry's or a cached answer, of
//     any age), and with none the waybill is unavailable: unknown, never a
//     pass. A service that does not know the waybill (404) leaves the copy
//     held, and with none the waybill is not registered.
type Looker struct {
	Client *Client
	Store  Store
	// MaxAge: see DefaultMaxAge.
	MaxAge time.Duration
	Clock  clock.Clock
	Log    *slog.Logger

	wg sync.WaitGroup
}

// Lookup implements lane.WaybillLooker: it returns at once, and done is
// called once from another goroutine within the client's timeout (and the
// store's reads and write).
func (l *Looker) Lookup(ctx context.Context, laneName, number string, done func(checks.WaybillLookup)) {
	l.wg.Go(func() { done(l.Find(ctx, laneName, number)) })
}

// Wait waits for the lookups under way (their cache writes), before the
// store is closed.
func (l *Looker) Wait() { l.wg.Wait() }

func (l *Looker) clock() clock.Clock {
	if l.Clock == nil {
		return clock.Real{}
	}
	return l.Clock
}

func (l *Looker) log() *slog.Logger {
	if l.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l.Log
}

// Find is one lookup, as Lookup gives it.
func (l *Looker) Find(ctx context.Context, laneName, number string) checks.WaybillLookup {
	maxAge := l.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	now := l.clock().Now()
	log := l.log().With("lane", laneName, "waybill", number)

	var (
		reg      *registry.Waybill
		syncedAt time.Time
	)
	if ix, err := l.Store.Lookup(ctx, checks.Evidence{Waybill: number}); err != nil {
		log.Warn("waybill lookup: the registry could not be read", "err", err)
	} else if ix != nil {
		if w, ok := ix.Waybill(number); ok {
			reg, syncedAt = &w, ix.Meta().SyncedAt
		}
	}
	if reg != nil && !syncedAt.IsZero() && now.Sub(syncedAt) <= maxAge {
		return checks.WaybillLookup{Number: number, Source: checks.WaybillFromRegistry, Waybill: reg}
	}
	var (
		cached   *registry.Waybill
		cachedAt time.Time
	)
	if w, at, ok, err := l.Store.CachedWaybill(ctx, number); err != nil {
		log.Warn("waybill lookup: the cache could not be read", "err", err)
	} else if ok {
		cached, cachedAt = &w, at
	}
	if cached != nil && now.Sub(cachedAt) <= maxAge && !cachedAt.After(now.Add(time.Minute)) {
		return checks.WaybillLookup{Number: number, Source: checks.WaybillFromCache, Waybill: cached, FetchedAt: cachedAt}
	}

	w, err := l.Client.Fetch(ctx, number)
	if err == nil {
		at := l.clock().Now()
		if err := l.Store.CacheWaybill(ctx, w, at); err != nil {
			log.Warn("waybill lookup: the answer could not be cached", "err", err)
		}
		log.Info("waybill looked up", "status", w.Status)
		return checks.WaybillLookup{Number: number, Source: checks.WaybillFromService, Waybill: &w, FetchedAt: at}
	}
	detail := strings.TrimPrefix(err.Error(), "waybill: ")
	log.Warn("waybill lookup: no copy from the service", "reason", detail)
	// The newest copy held, of any age.
	switch {
	case cached != nil && (reg == nil || cachedAt.After(syncedAt)):
		return checks.WaybillLookup{Number: number, Source: checks.WaybillFromCache, Waybill: cached, FetchedAt: cachedAt, Detail: detail}
	case reg != nil:
		return checks.WaybillLookup{Number: number, Source: checks.WaybillFromRegistry, Waybill: reg, Detail: detail}
	case errors.Is(err, ErrNotFound):
		return checks.WaybillLookup{Number: number, Detail: detail}
	}
	return checks.WaybillLookup{Number: number, Unavailable: true, Detail: detail}
}
