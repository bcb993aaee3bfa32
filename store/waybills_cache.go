package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hazgate/hazgate/registry"
)

// The waybill service's answers, kept with when they were fetched
// (docs/design.md, "Waybill lookup"). Only an answer that was checked
// whole is cached: the caller validates first.

// WaybillCacheKeep is how long an answer is kept: a waybill is issued for
// one trip, and one fetched this long ago has long expired.
const WaybillCacheKeep = 30 * 24 * time.Hour

// CacheWaybill keeps w, fetched from the waybill service at fetchedAt,
// replacing an earlier answer for its number; answers fetched more than
// WaybillCacheKeep before it go, so the cache does not grow for ever.
func (s *Store) CacheWaybill(ctx context.Context, w registry.Waybill, fetchedAt time.Time) error {
	if w.Number == "" || fetchedAt.IsZero() {
		return fmt.Errorf("store: cache waybill: %w: a number and a fetch time are required", ErrInvalid)
	}
	doc, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("store: cache waybill %s: %w", w.Number, err)
	}
	return s.write(ctx, "cache waybill", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO waybill_cache (number, doc, fetched_at) VALUES (?, ?, ?)
			ON CONFLICT (number) DO UPDATE SET doc = excluded.doc, fetched_at = excluded.fetched_at`,
			w.Number, string(doc), fmtTime(fetchedAt))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM waybill_cache WHERE fetched_at < ?`, fmtTime(fetchedAt.Add(-WaybillCacheKeep)))
		return err
	})
}

// CachedWaybill returns the waybill service's last answer for number and
// when it was fetched; ok is false when none is kept.
func (s *Store) CachedWaybill(ctx context.Context, number string) (w registry.Waybill, fetchedAt time.Time, ok bool, err error) {
	var doc, at string
	err = s.reader.QueryRowContext(ctx, `SELECT doc, fetched_at FROM waybill_cache WHERE number = ?`, number).Scan(&doc, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return registry.Waybill{}, time.Time{}, false, nil
	case err != nil:
		return registry.Waybill{}, time.Time{}, false, fmt.Errorf("store: cached waybill %s: %w", number, err)
	}
	if err := json.Unmarshal([]byte(doc), &w); err != nil {
		return registry.Waybill{}, time.Time{}, false, fmt.Errorf("store: cached waybill %s: %w", number, err)
	}
	if fetchedAt, err = parseTime(at); err != nil {
		return registry.Waybill{}, time.Time{}, false, fmt.Errorf("store: cached waybill %s: fetched_at: %w", number, err)
	}
	return w, fetchedAt, true, nil
}
