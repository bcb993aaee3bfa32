package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/device/plate"
	"github.com/hazgate/hazgate/gate"
	"github.com/hazgate/hazgate/registry"
)

// The lanes' plate cameras: each pushes its reads to the gate's push
// endpoint (device/plate) over HTTP on loopback, as ANPR cameras do, in
// the scenario's format (settings.plate_camera): hazgate's JSON with the
// lane's token, Hikvision's ISAPI multipart XML with HTTP digest, or
// Dahua's ITSAPI JSON with a token from an allowed address. A Hikvision or
// Dahua camera also sends its heartbeat every cameraHeartbeat while
// vehicles are still to come; the fault <lane>/plate_camera silent stops
// its pushes and heartbeats. The endpoint answers at once; a push it
// refuses reaches no lane.

// cameraHeartbeat is how often a simulated Hikvision or Dahua camera
// sends its heartbeat (scenario time).
const cameraHeartbeat = 30 * time.Second

// faultSilent is the plate camera's fault kind.
const faultSilent = "silent"

// pushPlate is the lane's camera pushing its read of v.
func (l *simLane) pushPlate(v *vehicle) {
	e := l.sim
	if e.plates.isSilent(l.name) {
		e.deviceNote(l.name, l.gl.DeviceName(gate.DevicePlateCamera), "silent: the read of "+v.a.Plate+" is not pushed")
		return
	}
	err := e.plates.pushRead(l.name, v.a)
	var refused refusedError
	switch {
	case errors.As(err, &refused):
		e.rejected(l, v, l.name+"/plate_camera", rejectedPlate, refused)
	case err != nil:
		e.deviceNote(l.name, l.name+"/plate_camera", err.Error())
	}
}

// refusedError is the plate endpoint's refusal of a push, in its words.
type refusedError struct{ msg string }

func (e refusedError) Error() string { return e.msg }

// plateToken is a lane's plate camera token (and a Hikvision camera's
// digest password).
func plateToken(laneName string) string { return "sim-plate-" + laneName }

// cameraUser is the simulated Hikvision cameras' digest username.
const cameraUser = "anpr"

// plateCameraConfig is lane's camera in the simulated gate's configuration:
// plate_token for a JSON camera, plate_camera for the vendors'.
func (e *Engine) plateCameraConfig(l *config.Lane) {
	s := e.sc.Settings
	switch s.PlateCamera {
	case "", config.PlateJSON:
		l.PlateToken = plateToken(l.Name)
	case config.PlateHikvision:
		l.PlateCamera = &config.PlateCamera{Format: config.PlateHikvision, Username: cameraUser, Password: plateToken(l.Name)}
	case config.PlateDahua:
		l.PlateCamera = &config.PlateCamera{Format: config.PlateDahua, Token: plateToken(l.Name), AllowFrom: []string{"127.0.0.1"}}
	}
	if l.PlateCamera != nil && s.PlateCameraSilence != nil {
		l.PlateCamera.Silence = *s.PlateCameraSilence
	}
}

// plateCamera is the lanes' plate cameras.
type plateCamera struct {
	format string // the scenario's settings.plate_camera
	srv    *http.Server
	ln     net.Listener
	client *http.Client

	mu     sync.Mutex
	silent map[string]bool // by lane
}

func newPlateCamera(format string) (*plateCamera, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sim: plate push endpoint: %w", err)
	}
	if format == "" {
		format = config.PlateJSON
	}
	return &plateCamera{format: format, ln: ln, client: &http.Client{Timeout: settleBound}, silent: map[string]bool{}}, nil
}

// serve serves the gate's plate push endpoint, both its paths.
func (p *plateCamera) serve(h *plate.Handler) {
	mux := http.NewServeMux()
	mux.Handle(plate.Pattern, h)
	mux.HandleFunc(plate.NativePattern, h.ServeNative)
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(p.ln) // ends when close closes the listener
}

func (p *plateCamera) close() {
	if p.srv != nil {
		p.srv.Close()
	} else {
		p.ln.Close()
	}
	p.client.CloseIdleConnections()
}

func (p *plateCamera) setSilent(laneName string, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.silent[laneName] = on
}

func (p *plateCamera) isSilent(laneName string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.silent[laneName]
}

// pushRead posts one arrival's read in the camera's format.
func (p *plateCamera) pushRead(laneName string, a Arrival) error {
	switch p.format {
	case config.PlateHikvision:
		dangmark := "unknown"
		if a.Placard != nil {
			dangmark = map[bool]string{true: "yes", false: "no"}[*a.Placard]
		}
		pj, sj := pictureFor(a.PlateColor)
		ct, body := plate.ISAPIMultipart(plate.ISAPIAlert(a.Plate, a.PlateColor, 100, dangmark, true, true), pj, sj)
		return p.post(laneName, "/api/v1/cameras/"+url.PathEscape(laneName)+"/", ct, body)
	case config.PlateDahua:
		pj, sj := pictureFor(a.PlateColor)
		body := plate.ITSAPITollgate(a.Plate, dahuaColor(a.PlateColor), 100, pj, sj)
		return p.post(laneName, "/api/v1/cameras/"+url.PathEscape(laneName)+"/NotificationInfo/TollgateInfo?token="+url.QueryEscape(plateToken(laneName)), "application/json", body)
	}
	one := 1.0
	body, _ := json.Marshal(plate.Push{Plate: a.Plate, Trailer: a.Trailer, Color: a.PlateColor, Placard: a.Placard, Confidence: &one})
	return p.post(laneName, "/api/v1/lanes/"+url.PathEscape(laneName)+"/plate", "application/json", body)
}

// heartbeat posts the camera's heartbeat (the vendors' cameras only).
func (p *plateCamera) heartbeat(laneName string) error {
	switch p.format {
	case config.PlateHikvision:
		return p.post(laneName, "/api/v1/cameras/"+url.PathEscape(laneName)+"/", "application/xml", plate.ISAPIHeartbeat())
	case config.PlateDahua:
		return p.post(laneName, "/api/v1/cameras/"+url.PathEscape(laneName)+"/NotificationInfo/KeepAlive?token="+url.QueryEscape(plateToken(laneName)), "application/json", plate.ITSAPIKeepAlive("sim-"+laneName))
	}
	return nil
}

// post sends one push as the lane's camera authenticates it: a bearer
// token for JSON, digest (answering the gate's challenge) for Hikvision,
// the token in the URL for Dahua.
func (p *plateCamera) post(laneName, path, ctype string, body []byte) error {
	send := func(auth string) (*http.Response, error) {
		req, err := http.NewRequest(http.MethodPost, "http://"+p.ln.Addr().String()+path, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", ctype)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		return p.client.Do(req)
	}
	auth := ""
	if p.format == config.PlateJSON {
		auth = "Bearer " + plateToken(laneName)
	}
	resp, err := send(auth)
	if err == nil && p.format == config.PlateHikvision && resp.StatusCode == http.StatusUnauthorized {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		auth, err = plate.DigestAuthorization(resp.Header.Get("WWW-Authenticate"), http.MethodPost, path, cameraUser, plateToken(laneName))
		if err != nil {
			return err
		}
		resp, err = send(auth)
	}
	if err != nil {
		return fmt.Errorf("push failed: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		var body plate.ErrorBody
		if json.Unmarshal(msg, &body) != nil || body.Error == "" {
			body.Error = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(msg)))
		}
		return refusedError{msg: body.Error}
	}
	return nil
}

// startHeartbeats has each Hikvision or Dahua camera send its heartbeat
// every cameraHeartbeat, until every vehicle is done.
func (e *Engine) startHeartbeats() {
	if e.plates.format == config.PlateJSON {
		return
	}
	for _, name := range e.sc.Lanes() {
		l := e.lanes[name]
		var beat func()
		beat = func() {
			if e.allDone() {
				return
			}
			if !e.plates.isSilent(name) {
				if err := e.plates.heartbeat(name); err != nil {
					e.deviceNote(name, l.gl.DeviceName(gate.DevicePlateCamera), "heartbeat: "+err.Error())
				}
			}
			e.clk.AfterFunc(cameraHeartbeat, beat)
		}
		beat()
	}
}

// dahuaColor is a colour as Dahua's cameras write it (Yellow, Blue...).
func dahuaColor(c string) string {
	if c == "" {
		return "Unknown"
	}
	return strings.ToUpper(c[:1]) + c[1:]
}

// pictures are the simulated cameras' JPEG pictures, drawn once per
// plate colour: a plate close-up in its colour and a grey scene.
var pictures = struct {
	sync.Mutex
	m map[string][2][]byte
}{m: map[string][2][]byte{}}

var plateRGB = map[string]color.RGBA{
	registry.PlateBlue: {29, 79, 156, 255}, registry.PlateYellow: {232, 184, 0, 255}, registry.PlateBlack: {17, 17, 17, 255},
	registry.PlateWhite: {242, 242, 242, 255}, registry.PlateGreen: {63, 178, 107, 255}, registry.PlateYellowGreen: {160, 190, 40, 255},
}

func pictureFor(c string) (plateJPEG, sceneJPEG []byte) {
	pictures.Lock()
	defer pictures.Unlock()
	if p, ok := pictures.m[c]; ok {
		return p[0], p[1]
	}
	bg, ok := plateRGB[c]
	if !ok {
		bg = color.RGBA{128, 128, 128, 255}
	}
	draw := func(w, h int, bg, fg color.RGBA) []byte {
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				c := bg
				if (x/10)%3 == 1 && y > h/4 && y < 3*h/4 {
					c = fg
				}
				m.Set(x, y, c)
			}
		}
		var b bytes.Buffer
		jpeg.Encode(&b, m, &jpeg.Options{Quality: 60})
		return b.Bytes()
	}
	p := [2][]byte{draw(160, 48, bg, color.RGBA{20, 20, 20, 255}), draw(320, 180, color.RGBA{110, 120, 130, 255}, bg)}
	pictures.m[c] = p
	return p[0], p[1]
}

// validatePlate checks the scenario's plate camera settings and the
// arrivals' plate colours.
func (s *Scenario) validatePlate(bad func(field, format string, args ...any)) {
	switch s.Settings.PlateCamera {
	case "", config.PlateJSON, config.PlateHikvision, config.PlateDahua:
	default:
		bad("settings.plate_camera", "%q is not json, hikvision or dahua", s.Settings.PlateCamera)
	}
	if d := s.Settings.PlateCameraSilence; d != nil {
		switch {
		case *d <= 0:
			bad("settings.plate_camera_silence", "%v: must be more than 0", d.D())
		case s.Settings.PlateCamera != config.PlateHikvision && s.Settings.PlateCamera != config.PlateDahua:
			bad("settings.plate_camera_silence", "only a hikvision or dahua camera sends heartbeats (settings.plate_camera)")
		case d.D() <= cameraHeartbeat:
			bad("settings.plate_camera_silence", "%v: the simulated cameras send a heartbeat every %v", d.D(), cameraHeartbeat)
		}
	}
	for i, f := range s.Faults {
		if _, kind := splitDevice(f.Device); kind == gate.DevicePlateCamera && s.Settings.PlateCameraSilence == nil {
			bad(fmt.Sprintf("faults[%d].device", i), "a silent plate camera is noticed only with settings.plate_camera_silence")
		}
	}
	native := s.Settings.PlateCamera == config.PlateHikvision || s.Settings.PlateCamera == config.PlateDahua
	for i, a := range s.Arrivals {
		if native && a.Trailer != "" {
			bad(fmt.Sprintf("arrivals[%d].trailer", i), "a %s camera reads one plate, the tractor's: a trailer is read by a JSON camera (or typed by the operator)", s.Settings.PlateCamera)
		}
		if c, ok := registry.PlateColor(a.PlateColor); a.PlateColor != "" && (!ok || c != a.PlateColor) {
			bad(fmt.Sprintf("arrivals[%d].plate_color", i), "%q is not a plate colour (%s)", a.PlateColor, strings.Join(registry.PlateColors, ", "))
		}
	}
}
