package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hazgate/hazgate/device/plate"
)

// pushPlate is the lane's plate camera pushing its read to the gate's push
// endpoint (device/plate) over HTTP on loopback, as ANPR cameras do, with
// the lane's token. The endpoint answers at once; a push it refuses reaches
// no lane.
func (l *simLane) pushPlate(v *vehicle) {
	e := l.sim
	one := 1.0
	body, _ := json.Marshal(plate.Push{Plate: v.a.Plate, Trailer: v.a.Trailer, Confidence: &one})
	err := e.plates.push(l.name, plateToken(l.name), body)
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

// plateToken is a lane's plate camera token.
func plateToken(laneName string) string { return "sim-plate-" + laneName }

// plateCamera is the lanes' plate cameras: they push to the gate's plate
// endpoint, served on loopback.
type plateCamera struct {
	srv    *http.Server
	ln     net.Listener
	client *http.Client
}

func newPlateCamera() (*plateCamera, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sim: plate push endpoint: %w", err)
	}
	return &plateCamera{ln: ln, client: &http.Client{Timeout: settleBound}}, nil
}

// serve serves the gate's plate push endpoint.
func (p *plateCamera) serve(h http.Handler) {
	p.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
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

// push posts one read for lane with the camera's token.
func (p *plateCamera) push(laneName, token string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, "http://"+p.ln.Addr().String()+"/api/v1/lanes/"+url.PathEscape(laneName)+"/plate", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("push failed: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusAccepted {
		var body plate.ErrorBody
		if json.Unmarshal(msg, &body) != nil || body.Error == "" {
			body.Error = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(msg)))
		}
		return refusedError{msg: body.Error}
	}
	return nil
}
