package sim

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/hazgate/hazgate/uplink"
)

// The simulator's own platform signs its registry data, as a city platform
// does (docs/uplink.md "Signed registry data"): with Options.RegistryKey
// the simulated gate applies only registry data signed by that key, and
// once it runs the platform publishes the day's sync, a signed delta, on
// the registry topic of the simulator's broker. New returns once the gate
// has applied it.

// syncRegistry publishes a signed delta that records the registry's sync
// (its version one up, nothing changed) and waits until the gate applied
// it.
func (e *Engine) syncRegistry(ctx context.Context) error {
	st := e.gate.Store
	m, err := st.RegistryMeta(ctx)
	if err != nil {
		return err
	}
	msg, err := uplink.SignDelta(e.opt.RegistryKey, uplink.Delta{Base: m.Version, Version: m.Version + 1, SyncedAt: e.clk.Now().UTC()})
	if err != nil {
		return err
	}
	topic := "hazgate/" + e.opt.Park + "/registry/delta"
	// Retained: the gate subscribes when its uplink connects, which may be
	// after this; a delta it already holds is old news to it.
	if err := uplink.PublishAll(ctx, e.opt.Broker, e.opt.ClientID+"-platform", topic, true, [][]byte{msg}, 10*time.Second); err != nil {
		return fmt.Errorf("sim: the platform's signed registry delta: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m2, err := st.RegistryMeta(ctx); err == nil && m2.Version > m.Version {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sim: the gate did not apply the platform's signed registry delta %d->%d within 30s (see its log)", m.Version, m.Version+1)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// registryKeys are the keys the simulated gate trusts for registry data.
func (o Options) registryKeys() []string {
	if o.RegistryKey == nil {
		return nil
	}
	return []string{uplink.PublicKeyString(o.RegistryKey.Public().(ed25519.PublicKey))}
}
