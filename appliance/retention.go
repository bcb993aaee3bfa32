package appliance

import (
	"context"
	"fmt"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/kiosk"
	"github.com/hazgate/hazgate/record"
	"github.com/hazgate/hazgate/store"
)

// retainEvery is how often the retention purge runs. Each run deletes what
// aged past retention since the last: a few batches, between which
// decisions take the writer first (store.Purge).
const retainEvery = time.Hour

// retain runs the retention purge at start and every retainEvery until
// ctx ends: records past retention.records once delivered upstream, face
// images past retention.faces.
func (a *Appliance) retain(ctx context.Context) {
	if a.cfg.Retention.Deprecated {
		a.log.Warn(config.DeprecatedRetention, "file", a.opt.ConfigFile, "faces", a.cfg.Retention.Faces.String(), "records", a.cfg.Retention.Records.String())
	}
	for {
		a.purgeOnce(ctx)
		if !clock.Sleep(ctx, a.clk, retainEvery) {
			return
		}
	}
}

// purgeOnce runs one retention purge and logs what it did. While the clock
// is not trusted it purges nothing: a clock set years ahead would delete
// records before their time.
func (a *Appliance) purgeOnce(ctx context.Context) (store.PurgeResult, error) {
	if m := a.gate.ClockMonitor; m != nil && !m.Synced() {
		a.log.Warn("the retention purge waits: the clock is not trusted yet (clock_unsynced); it runs again within the hour")
		return store.PurgeResult{}, nil
	}
	now := a.clk.Now()
	res, err := a.st.Purge(ctx, store.Retention{
		RecordsBefore: a.cfg.Retention.Records.Before(now),
		MediaBefore:   a.cfg.Retention.Faces.Before(now),
	})
	switch {
	case err != nil && ctx.Err() == nil:
		a.log.Error("the retention purge stopped; it runs again within the hour", "err", err)
	case res.Total() > 0:
		a.log.Info("purged what is past its retention", "face_images", res.Media, "inspections", res.Inspections,
			"passages", res.Passages, "decisions", res.Decisions, "alarms", res.Alarms, "audit_entries", res.Audit,
			"outbox_messages", res.Outbox, "transactions", res.Batches)
	}
	if !res.HeldBack.IsZero() {
		a.log.Warn("records past retention are kept until the platform has received them",
			"oldest_undelivered", res.HeldBack.In(a.cfg.Location()).Format(time.DateTime))
	}
	return res, err
}

// diskCondition is the disk_low condition: the database's file system has
// less free space than disk.min_free. While it lasts the store queues no
// telemetry or status (store.SetDiskLow); records and decisions go on.
// ok is false when the space cannot be read.
func (a *Appliance) diskCondition() (condition, bool) {
	d, err := kiosk.DiskAt(a.disk).Disk()
	if err != nil || d.Total == 0 {
		return condition{}, false
	}
	minFree := uint64(a.cfg.Disk.MinFree)
	low := d.Free < minFree
	if low != a.st.DiskLow() {
		a.st.SetDiskLow(low)
		if low {
			a.log.Warn("the database's disk is nearly full: telemetry paused, records go on", "free_mib", d.Free>>20, "min_free_mib", minFree>>20, "path", d.Path)
		} else {
			a.log.Info("the database's disk has room again: telemetry resumed", "free_mib", d.Free>>20)
		}
	}
	return condition{key: keyDiskLow, on: low, code: "disk_low",
		text: record.Text{
			ZH: fmt.Sprintf("数据库所在磁盘剩余空间不足：剩余 %d MB，低于 %d MB。遥测已暂停，检查记录照常保存；请清理磁盘或检查数据保留设置", d.Free>>20, minFree>>20),
			EN: fmt.Sprintf("The database's disk is nearly full: %d MB free, below %d MB. Telemetry is paused; inspections are still recorded. Free some space or check the retention settings", d.Free>>20, minFree>>20),
		},
		cleared: record.Text{ZH: "磁盘空间已恢复，遥测已恢复", EN: "The disk has room again; telemetry resumed"}}, true
}
