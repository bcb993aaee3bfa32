package config

import (
	"net/netip"
	"strconv"
	"strings"
)

// The plate camera push formats (lanes[].plate_camera.format).
const (
	PlateJSON      = "json"      // hazgate's own JSON push, with a bearer token
	PlateHikvision = "hikvision" // ISAPI ANPR alarm: multipart XML and JPEG pictures
	PlateDahua     = "dahua"     // ITSAPI: the tollgate JSON push and its keep-alive
)

// PlateCamera is how a lane's plate camera pushes its reads, and how the
// gate knows it is that camera (docs/devices.md, "Plate cameras").
type PlateCamera struct {
	// Format is json (the default), hikvision or dahua.
	Format string `yaml:"format"`
	// Token, when set, is the camera's own token: a bearer token, or the
	// token query parameter of the URL the camera is given.
	Token string `yaml:"token,omitempty"`
	// Username and Password, when set, are the HTTP digest credentials
	// the camera sends (as Hikvision and Dahua cameras do).
	Username string `yaml:"username,omitempty"`
	Password string `yaml:"password,omitempty"`
	// AllowFrom, when set, are the only source addresses (or CIDR
	// networks) the camera's pushes are taken from.
	AllowFrom []string `yaml:"allow_from,omitempty"`
	// Silence: a camera that sends no read and no heartbeat for this long
	// is in fault. 0: not watched.
	Silence Duration `yaml:"silence,omitempty"`
}

// PushCamera is the lane's plate camera as the push endpoint takes it:
// plate_camera, or a JSON camera with plate_token; nil when the lane takes
// no pushes.
func (l *Lane) PushCamera() *PlateCamera {
	switch {
	case l.PlateCamera != nil:
		c := *l.PlateCamera
		if c.Format == "" {
			c.Format = PlateJSON
		}
		return &c
	case l.PlateToken != "":
		return &PlateCamera{Format: PlateJSON, Token: l.PlateToken}
	}
	return nil
}

// AllowedPrefixes parses AllowFrom (validated: no error).
func (c *PlateCamera) AllowedPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range c.AllowFrom {
		if p, err := parseSource(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// parseSource reads an address (one host) or a CIDR network.
func parseSource(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// validatePlateCamera checks lanes[i].plate_camera (field f is
// "lanes[i]"); tokens are the plate tokens of the lanes before, by the
// field that uses each.
func validatePlateCamera(bad func(string, string, ...any), f string, l Lane, tokens map[string]string) {
	c := l.PlateCamera
	if c == nil {
		return
	}
	f += ".plate_camera"
	if l.PlateToken != "" {
		bad(f+".token", "the lane has plate_token too: give the camera's token here only")
	}
	switch c.Format {
	case "", PlateJSON, PlateHikvision, PlateDahua:
	default:
		bad(f+".format", "%q is not json, hikvision or dahua", c.Format)
	}
	switch tok := c.Token; {
	case tok == "":
	case strings.TrimSpace(tok) != tok || strings.ContainsAny(tok, " &#?%"):
		bad(f+".token", "has spaces or URL characters (&#?%%): a camera cannot send them as they are")
	default:
		if other, dup := tokens[tok]; dup {
			bad(f+".token", "the same token as %s: each lane's camera needs its own, or one camera can push plates to the other lane", other)
		} else {
			tokens[tok] = f + ".token"
		}
	}
	if (c.Username == "") != (c.Password == "") {
		bad(f+".password", "digest needs a username and a password, or neither")
	}
	for i, s := range c.AllowFrom {
		if _, err := parseSource(s); err != nil {
			bad(f+".allow_from["+strconv.Itoa(i)+"]", "%q is not an address or a network such as 192.168.10.21 or 192.168.10.0/24", s)
		}
	}
	if c.Silence < 0 {
		bad(f+".silence", "%v is negative (leave it out or 0 not to watch the camera)", c.Silence.D())
	}
	switch {
	case c.Format == "" || c.Format == PlateJSON:
		if c.Token == "" {
			bad(f+".token", "missing: a json camera sends its bearer token")
		}
	case c.Token == "" && c.Username == "" && len(c.AllowFrom) == 0:
		bad(f, "no way to know the camera: give username and password (digest), a token, or allow_from")
	}
}
