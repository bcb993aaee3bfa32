package appliance

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hazgate/hazgate/buildinfo"
)

// placeholder is the word the example configuration puts where a secret
// belongs.
const placeholder = "change-me"

// banner logs, once at start, what an installer needs to know: the
// version, the files, the registry, where the kiosk is and how many
// accounts it has; then, once each, what is missing: no kiosk account,
// placeholder secrets in the configuration, a registry never synced.
// kioskURL is "" when the kiosk is not serving.
func (a *Appliance) banner(ctx context.Context, kioskURL string) {
	db := "opened"
	if a.created {
		db = "created"
	}
	regVersion, regAge := int64(0), "never synced"
	m, err := a.st.RegistryMeta(ctx)
	if err == nil && !m.SyncedAt.IsZero() {
		regVersion, regAge = m.Version, a.clk.Now().Sub(m.SyncedAt).Round(time.Minute).String()
	}
	accounts := -1
	if ops, err := a.st.Operators(ctx); err == nil {
		accounts = 0
		for _, op := range ops {
			if !op.Disabled {
				accounts++
			}
		}
	}
	if kioskURL == "" {
		kioskURL = "not serving"
	}
	a.log.Info("hazgate running",
		"version", buildinfo.Version, "commit", buildinfo.Commit,
		"config", a.opt.ConfigFile, "database", a.cfg.Database, "database_file", db,
		"registry_version", regVersion, "registry_age", regAge,
		"kiosk_url", kioskURL, "accounts", accounts,
		"gate", a.cfg.Gate, "lanes", len(a.cfg.Lanes))

	if accounts == 0 {
		a.log.Warn("no kiosk accounts: nobody can sign in to release or refuse a held vehicle; add one with: hazgate operator add -db " +
			a.cfg.Database + " -name NAME -role supervisor")
	}
	for _, p := range placeholders(a.opt.ConfigFile) {
		a.log.Warn("placeholder secret in the configuration: replace it before the gate is used", "file", a.opt.ConfigFile, "line", p.line, "key", p.key)
	}
	if err == nil && m.SyncedAt.IsZero() {
		a.log.Warn("the registry has never been synced: every inspection is held for review until it is; import one with: hazgate registry import FILE -db " +
			a.cfg.Database + ", or let the park's broker send it")
	}
}

// placeholderAt is a line of the configuration whose value is still the
// example's placeholder.
type placeholderAt struct {
	line int
	key  string
}

// placeholders finds the configuration's values that still hold the
// placeholder (comments do not count). A file that cannot be read has none
// here: config.Load has read it already.
func placeholders(path string) []placeholderAt {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []placeholderAt
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if !strings.Contains(line, placeholder) {
			continue
		}
		key, _, _ := strings.Cut(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "- ")), ":")
		out = append(out, placeholderAt{line: n, key: strings.Trim(key, "{ ")})
	}
	return out
}

// reachableURL is the kiosk's address as a browser elsewhere can reach it:
// a listener on every address is named by the machine's first non-loopback
// IPv4 address (or 127.0.0.1 when it has none).
func reachableURL(scheme string, addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return scheme + "://" + addr.String()
	}
	host := tcp.IP.String()
	if tcp.IP == nil || tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, a := range addrs {
				if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
					host = ipn.IP.String()
					break
				}
			}
		}
	}
	return fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(host, strconv.Itoa(tcp.Port)))
}
