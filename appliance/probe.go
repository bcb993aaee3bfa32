package appliance

import (
	"context"
	"net"
	"net/url"
	"time"

	"github.com/hazgate/hazgate/clock"
	"github.com/hazgate/hazgate/health"
)

// The lanes' cameras and the face-match service are not polled by a
// driver; their health (for the health page and the status feed) is
// whether they can be reached, looked at every probeEvery.
const (
	probeEvery   = 30 * time.Second
	probeTimeout = 2 * time.Second
)

// probe is a network service whose reachability is its health.
type probe struct {
	name, kind, lane string
	addr             string // host:port
}

// probes are the configuration's cameras and face-match service.
func (a *Appliance) probes() []probe {
	var ps []probe
	for _, lc := range a.cfg.Lanes {
		if addr := hostPort(lc.Camera.SnapshotURL); addr != "" {
			ps = append(ps, probe{name: lc.Name + "/camera", kind: "camera", lane: lc.Name, addr: addr})
		}
	}
	if addr := hostPort(a.cfg.FaceMatch.URL); addr != "" {
		ps = append(ps, probe{name: "face_match", kind: "facematch", addr: addr})
	}
	return ps
}

// probeServices reports each probe's health at start and every probeEvery,
// and when it changes.
func (a *Appliance) probeServices(ctx context.Context) {
	ps := a.probes()
	if len(ps) == 0 {
		return
	}
	last := map[string]string{}
	for {
		for _, p := range ps {
			fault := ""
			d := net.Dialer{Timeout: probeTimeout}
			if c, err := d.DialContext(ctx, "tcp", p.addr); err != nil {
				if ctx.Err() != nil {
					return
				}
				fault = "cannot be reached at " + p.addr
			} else {
				c.Close()
			}
			if prev, seen := last[p.name]; seen && prev == fault {
				continue
			}
			last[p.name] = fault
			dev := health.New(p.name, p.kind, p.lane, fault, a.clk.Now())
			if fault != "" {
				dev.Code, dev.DetailZH = "service_unreachable", "无法连接 "+p.addr
				a.log.Warn("service not reachable", "device", p.name, "addr", p.addr)
			}
			a.gate.Lanes.SetDevice(dev)
		}
		if !clock.Sleep(ctx, a.clk, probeEvery) {
			return
		}
	}
}

// hostPort is a URL's host:port, the scheme's port when it names none; ""
// for no URL.
func hostPort(raw string) string {
	u, err := url.Parse(raw)
	if raw == "" || err != nil || u.Hostname() == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}
