package gate

import (
	"fmt"

	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/lane"
	"github.com/hazgate/hazgate/store"
	"github.com/hazgate/hazgate/waybill"
)

// assembleWaybills builds the waybill looker when the configuration names
// a waybill service: every entry lane then looks its scanned waybills up.
func (g *Gate) assembleWaybills(cfg *config.Config, st *store.Store, opt Options) error {
	if cfg.Waybill.URL == "" {
		return nil
	}
	c, err := waybill.NewClient(waybill.Config{
		URL: cfg.Waybill.URL, Timeout: cfg.Waybill.Timeout.D(), Token: cfg.Waybill.Token,
		CAFile: cfg.Waybill.CAFile, CertFile: cfg.Waybill.CertFile, KeyFile: cfg.Waybill.KeyFile,
		Clock: opt.Clock,
	})
	if err != nil {
		return fmt.Errorf("gate: %w", err)
	}
	g.Waybills = &waybill.Looker{Client: c, Store: st, MaxAge: cfg.Waybill.MaxAge.D(), Clock: opt.Clock,
		Log: opt.Log.With("component", "waybill")}
	return nil
}

// waybillsFor is the looker a lane uses: its hardware's own, or the
// gate's.
func (g *Gate) waybillsFor(devs Devices) lane.WaybillLooker {
	if g.Waybills == nil {
		return nil
	}
	if devs.Waybills != nil {
		return devs.Waybills
	}
	return g.Waybills
}
