package config

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/hazgate/hazgate/prompt"
)

// Voice is a lane's UART voice board (SYN6288 framing).
type Voice struct {
	Port string `yaml:"port"`
	Baud int    `yaml:"baud"` // default 9600, the boards' factory setting
	// Encoding is the text's: gbk (default) or gb2312.
	Encoding string `yaml:"encoding"`
	// Timeout bounds the board's answer to a frame (default 1 s).
	Timeout Duration `yaml:"timeout"`
}

// Display is a lane's outdoor display, the kiosk's /display/<lane> page.
type Display struct {
	// Allow lists the addresses (CIDR prefixes or single addresses) the
	// page is served to; empty: any address.
	Allow []string `yaml:"allow"`
}

// Words are the prompts' words: the configuration's prompts over the
// built-in ones.
func (c *Config) Words() prompt.Words { return c.Prompts.WithDefaults() }

// AllowedPrefixes are the display's allowed addresses as prefixes (a
// single address is a /32 or /128). Validate has accepted them.
func (d *Display) AllowedPrefixes() []netip.Prefix {
	if d == nil {
		return nil
	}
	var out []netip.Prefix
	for _, s := range d.Allow {
		if p, err := parseAllow(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func parseAllow(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// maxVoiceText is the voice boards' limit on a text, in encoded bytes
// (device/voice.MaxText).
const maxVoiceText = 200

// validateDriverFacing checks the prompts, each lane's voice board (its
// port not another device's) and its display's addresses.
func (c *Config) validateDriverFacing(bad func(field, format string, args ...any), ports map[string]string) {
	gb2312 := false
	for i, l := range c.Lanes {
		f := fmt.Sprintf("lanes[%d]", i)
		if v := l.Voice; v != nil {
			switch {
			case strings.TrimSpace(v.Port) == "":
				bad(f+".voice.port", "missing: the voice board needs its port (or leave voice out)")
			default:
				key := portKey(v.Port)
				if other, dup := ports[key]; dup {
					bad(f+".voice.port", "%q is already %s: one serial port serves one device", v.Port, other)
				} else {
					ports[key] = f + ".voice.port"
				}
			}
			if v.Baud != 0 && !validBaud(v.Baud) {
				bad(f+".voice.baud", "%d is not a standard baud rate", v.Baud)
			}
			switch v.Encoding {
			case "", "gbk":
			case "gb2312":
				gb2312 = true
			default:
				bad(f+".voice.encoding", "%q is not gbk or gb2312", v.Encoding)
			}
			if v.Timeout < 0 {
				bad(f+".voice.timeout", "%v is negative (leave it out or 0 for the default)", v.Timeout.D())
			}
		}
		if d := l.Display; d != nil {
			for j, a := range d.Allow {
				if _, err := parseAllow(a); err != nil {
					bad(fmt.Sprintf("%s.display.allow[%d]", f, j), "%q is not an address or a CIDR prefix such as 10.0.5.0/24", a)
				}
			}
		}
	}
	words := c.Words()
	for _, k := range slices.Sorted(func(yield func(prompt.Key) bool) {
		for k := range c.Prompts {
			if !yield(k) {
				return
			}
		}
	}) {
		field := "prompts." + string(k)
		if msg := words.Validate(k); msg != "" {
			switch {
			case strings.HasPrefix(msg, "zh"):
				field += ".zh"
			case strings.HasPrefix(msg, "en"):
				field += ".en"
			}
			bad(field, "%s", msg)
			continue
		}
		zh := words[k].ZH
		b, err := simplifiedchinese.GBK.NewEncoder().String(zh)
		if err != nil {
			bad(field+".zh", "%q has a character the voice board cannot say (not in GBK)", zh)
			continue
		}
		if gb2312 && !isGB2312(b) {
			bad(field+".zh", "%q has a character outside GB2312, which a lane's voice board is set to", zh)
		}
		if len(b) > maxVoiceText/2 {
			bad(field+".zh", "%d bytes in GBK: keep a prompt within %d, so that a refusal's reason still fits the voice board's %d", len(b), maxVoiceText/2, maxVoiceText)
		}
	}
}

// isGB2312 reports whether GBK bytes are all GB2312 (EUC-CN).
func isGB2312(b string) bool {
	for i := 0; i < len(b); i++ {
		if b[i] < 0x80 {
			continue
		}
		if i+1 >= len(b) || b[i] < 0xA1 || b[i] > 0xF7 || b[i+1] < 0xA1 || b[i+1] == 0xFF {
			return false
		}
		i++
	}
	return true
}

// voiceDefaults fills a lane's voice board's defaults.
func (l *Lane) voiceDefaults() {
	v := l.Voice
	if v == nil {
		return
	}
	v.Port = filepath.Clean(strings.TrimSpace(v.Port))
	if v.Baud == 0 {
		v.Baud = 9600
	}
	if v.Encoding == "" {
		v.Encoding = "gbk"
	}
	if v.Timeout == 0 {
		v.Timeout = Duration(time.Second)
	}
}
