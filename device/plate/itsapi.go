package plate

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Dahua ITSAPI: the camera POSTs each tollgate (卡口) capture as JSON to
// the platform's ".../NotificationInfo/TollgateInfo", its picture in
// base64, and a keep-alive to ".../NotificationInfo/KeepAlive"; the
// platform answers {"Result": true}, or the camera sends the capture
// again. docs/devices.md lists the fields taken and the public examples
// they were read from.

// itsapiTollgate is the part of a TollgateInfo push that hazgate reads.
type itsapiTollgate struct {
	Picture *struct {
		Plate *struct {
			PlateNumber string          `json:"PlateNumber"`
			PlateColor  string          `json:"PlateColor"`
			Confidence  json.RawMessage `json:"Confidence"`
		} `json:"Plate"`
		Vehicle *struct {
			VehicleType string `json:"VehicleType"`
		} `json:"Vehicle"`
		NormalPic *struct {
			Content string `json:"Content"`
		} `json:"NormalPic"`
		VehiclePic *struct {
			Content string `json:"Content"`
		} `json:"VehiclePic"`
		CutoutPic *struct {
			Content string `json:"Content"`
		} `json:"CutoutPic"`
	} `json:"Picture"`
}

// ParseITSAPI reads a Dahua push to path (the request's path: the last
// element, TollgateInfo or KeepAlive, says which push it is).
func ParseITSAPI(path string, body []byte) (Report, error) {
	last := path[strings.LastIndex(path, "/")+1:]
	switch last {
	case "KeepAlive":
		if len(bytes.TrimSpace(body)) > 0 && !json.Valid(body) {
			return Report{}, errors.New("the keep-alive is not JSON")
		}
		return Report{Kind: ReportHeartbeat}, nil
	case "TollgateInfo":
	default:
		return Report{}, fmt.Errorf("%q is not an ITSAPI push (NotificationInfo/TollgateInfo or NotificationInfo/KeepAlive)", path)
	}
	var t itsapiTollgate
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(&t); err != nil {
		return Report{}, fmt.Errorf("the TollgateInfo push is not JSON: %v", err)
	}
	if d.More() {
		return Report{}, errors.New("the TollgateInfo push holds more than one JSON value")
	}
	if t.Picture == nil || t.Picture.Plate == nil {
		return Report{}, errors.New("the TollgateInfo push has no Picture.Plate")
	}
	x := t.Picture
	rep := Report{Kind: ReportRead}
	if x.Vehicle != nil {
		rep.VehicleType = strings.TrimSpace(x.Vehicle.VehicleType)
	}
	plate, color, err := plateText(x.Plate.PlateNumber)
	if errors.Is(err, errNoRead) {
		return rep, nil
	}
	if err != nil {
		return Report{}, err
	}
	rep.Read = readOf(plate, color, x.Plate.PlateColor)
	if c := bytes.TrimSpace(x.Plate.Confidence); len(c) > 0 && string(c) != "null" {
		var v float64
		if err := json.Unmarshal(c, &v); err != nil {
			return Report{}, fmt.Errorf("Picture.Plate.Confidence %s is not a number", c)
		}
		if rep.Read.Confidence, err = percent(v); err != nil {
			return Report{}, err
		}
	}
	var scene, cutout []byte
	if x.NormalPic != nil && x.NormalPic.Content != "" {
		if scene, err = jpegBase64("Picture.NormalPic.Content", x.NormalPic.Content); err != nil {
			return Report{}, err
		}
	} else if x.VehiclePic != nil && x.VehiclePic.Content != "" {
		if scene, err = jpegBase64("Picture.VehiclePic.Content", x.VehiclePic.Content); err != nil {
			return Report{}, err
		}
	}
	if x.CutoutPic != nil && x.CutoutPic.Content != "" {
		if cutout, err = jpegBase64("Picture.CutoutPic.Content", x.CutoutPic.Content); err != nil {
			return Report{}, err
		}
	}
	rep.Read.Pictures = pictures(cutout, scene)
	return rep, nil
}

func jpegBase64(field, s string) ([]byte, error) {
	if base64.StdEncoding.DecodedLen(len(s)) > maxPicture {
		return nil, fmt.Errorf("%s is over %d bytes", field, maxPicture)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s is not base64: %v", field, err)
	}
	if !isJPEG(b) {
		return nil, fmt.Errorf("%s is not a JPEG picture", field)
	}
	return b, nil
}
