package uplink

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/hazgate/hazgate/atomicfile"
)

// nonceCache remembers the nonces of accepted commands until they expire,
// in a file written as temp file, fsync, rename (and the directory
// fsynced), so that a command cannot be replayed after a restart.
type nonceCache struct {
	path string
	mu   sync.Mutex
	// seen maps a nonce to the time after which its command is expired
	// (expiry plus clock skew) and the nonce may be forgotten.
	seen  map[string]time.Time
	floor time.Time // commands issued before it are refused: the file was lost
	// pruned is the latest time up to which expired nonces were
	// forgotten: while the clock is not trusted, a command that expired
	// before it may have had its nonce forgotten, and is refused
	// (command_clock.go).
	pruned time.Time
}

type nonceFile struct {
	V      int                  `json:"v"`
	Floor  time.Time            `json:"floor,omitzero"`
	Pruned time.Time            `json:"pruned,omitzero"`
	Nonces map[string]time.Time `json:"nonces"`
}

// loadNonces reads the cache. A missing file is an empty cache (the first
// start). A file that cannot be read or parsed is not fatal (the uplink must
// still deliver events) but leaves no proof of what was accepted: the
// cache then refuses every command issued before now, and warn says why.
func loadNonces(path string, now time.Time) (c *nonceCache, warn error, err error) {
	c = &nonceCache{path: path, seen: map[string]time.Time{}}
	if path == "" {
		return c, nil, nil
	}
	data, rerr := os.ReadFile(path)
	switch {
	case errors.Is(rerr, fs.ErrNotExist):
		return c, nil, nil
	case rerr != nil:
		warn = rerr
	default:
		var f nonceFile
		if jerr := json.Unmarshal(data, &f); jerr != nil || f.V != 1 {
			warn = fmt.Errorf("%s: not a nonce cache (%v)", path, jerr)
		} else {
			c.floor = f.Floor
			c.pruned = later(f.Pruned, now)
			for n, exp := range f.Nonces {
				if exp.After(now) {
					c.seen[n] = exp
				}
			}
			return c, nil, nil
		}
	}
	c.floor = now
	if err := c.writeLocked(now, true); err != nil {
		return nil, nil, err
	}
	return c, warn, nil
}

// accept records nonce as used until forgetAfter and writes the cache
// before it returns; a nonce already recorded is refused. On a clock not
// known to be right (synced false) a recorded nonce is refused whatever its
// expiry, and none is forgotten.
func (c *nonceCache) accept(nonce string, forgetAfter, now time.Time, synced bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if exp, ok := c.seen[nonce]; ok && (exp.After(now) || !synced) {
		return refuse(RefuseReplayed, "nonce %s was already used", nonce)
	}
	c.seen[nonce] = forgetAfter
	if err := c.writeLocked(now, synced); err != nil {
		delete(c.seen, nonce)
		return err
	}
	return nil
}

// floorTime returns the time before which commands are refused.
func (c *nonceCache) floorTime() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.floor
}

// writeLocked forgets the nonces expired at now (when prune: the clock is
// trusted) and writes the file atomically.
func (c *nonceCache) writeLocked(now time.Time, prune bool) error {
	if prune {
		for n, exp := range c.seen {
			if !exp.After(now) {
				delete(c.seen, n)
			}
		}
		c.pruned = later(c.pruned, now)
	}
	if c.path == "" {
		return nil
	}
	data, err := json.Marshal(nonceFile{V: 1, Floor: c.floor, Pruned: c.pruned, Nonces: c.seen})
	if err != nil {
		return fmt.Errorf("uplink: nonce cache: %w", err)
	}
	if err := atomicfile.Write(c.path, data, 0o600); err != nil {
		return fmt.Errorf("uplink: nonce cache: %w", err)
	}
	return nil
}
