package plate

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"strconv"
	"strings"
)

// Hikvision ISAPI ANPR alarm push ("HTTP listening"): the camera POSTs an
// EventNotificationAlert, alone as XML or as the "anpr.xml" part of a
// multipart body whose other parts are the pictures its pictureInfoList
// names (licensePlatePicture.jpg, detectionPicture.jpg or
// vehiclePicture.jpg). docs/devices.md lists the fields taken and the
// public examples they were read from.

// isapiAlert is the part of an EventNotificationAlert that hazgate reads.
// Element names are matched without their namespace (ver20 of
// hikvision.com or isapi.org alike).
type isapiAlert struct {
	XMLName    xml.Name `xml:"EventNotificationAlert"`
	EventType  string   `xml:"eventType"`
	EventState string   `xml:"eventState"`
	ANPR       *struct {
		LicensePlate    string `xml:"licensePlate"`
		ConfidenceLevel string `xml:"confidenceLevel"`
		PlateColor      string `xml:"plateColor"`
		VehicleType     string `xml:"vehicleType"`
		Dangmark        string `xml:"dangmark"`
		Pictures        []struct {
			FileName string `xml:"fileName"`
			Type     string `xml:"type"`
		} `xml:"pictureInfoList>pictureInfo"`
	} `xml:"ANPR"`
}

// ParseISAPI reads a Hikvision push: its Content-Type and body.
func ParseISAPI(contentType string, body []byte) (Report, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil && contentType != "" {
		return Report{}, fmt.Errorf("Content-Type %q: %v", contentType, err)
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		return parseISAPIMultipart(body, params["boundary"])
	case contentType == "", mt == "application/xml", mt == "text/xml", mt == "text/plain":
		return parseISAPIXML(body, nil)
	}
	return Report{}, fmt.Errorf("Content-Type %q: a Hikvision camera sends multipart/form-data or XML", contentType)
}

// parseISAPIMultipart reads the XML part and the pictures; every part is
// read before anything is taken, so a push cut short takes nothing.
func parseISAPIMultipart(body []byte, boundary string) (Report, error) {
	if boundary == "" {
		return Report{}, errors.New("multipart body without a boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	var xmlPart []byte
	pics := map[string][]byte{} // by the part's file or form name
	for n := 0; ; n++ {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Report{}, fmt.Errorf("multipart body: %v", err)
		}
		if n >= maxParts {
			return Report{}, fmt.Errorf("more than %d parts", maxParts)
		}
		data, err := io.ReadAll(io.LimitReader(p, maxPicture+1))
		if err != nil {
			return Report{}, fmt.Errorf("part %d: %v", n+1, err)
		}
		if len(data) > maxPicture {
			return Report{}, fmt.Errorf("part %d is over %d bytes", n+1, maxPicture)
		}
		name := p.FileName()
		if name == "" {
			name = p.FormName()
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch {
		case strings.HasSuffix(strings.ToLower(name), ".xml") || ct == "application/xml" || ct == "text/xml":
			if xmlPart != nil {
				return Report{}, errors.New("two XML parts")
			}
			xmlPart = data
		case strings.HasPrefix(ct, "image/") || strings.HasSuffix(strings.ToLower(name), ".jpg"):
			if !isJPEG(data) {
				return Report{}, fmt.Errorf("part %q is not a JPEG picture", name)
			}
			pics[name] = data
		}
	}
	if xmlPart == nil {
		return Report{}, errors.New("no anpr.xml part (the EventNotificationAlert)")
	}
	return parseISAPIXML(xmlPart, pics)
}

// parseISAPIXML reads the alert; pics are the pictures of its parts, by
// name.
func parseISAPIXML(data []byte, pics map[string][]byte) (Report, error) {
	var a isapiAlert
	d := xml.NewDecoder(bytes.NewReader(data))
	if err := d.Decode(&a); err != nil {
		return Report{}, fmt.Errorf("not an EventNotificationAlert: %v", err)
	}
	eventType := strings.TrimSpace(a.EventType)
	switch {
	case strings.EqualFold(eventType, "ANPR"):
	case strings.EqualFold(eventType, "videoloss") && strings.EqualFold(strings.TrimSpace(a.EventState), "inactive"):
		// What Hikvision cameras send as their heartbeat.
		return Report{Kind: ReportHeartbeat}, nil
	case eventType == "":
		return Report{}, errors.New("EventNotificationAlert without an eventType")
	default:
		return Report{Kind: ReportOther}, nil
	}
	if a.ANPR == nil {
		return Report{}, errors.New("an ANPR alert without its ANPR element")
	}
	x := a.ANPR
	rep := Report{Kind: ReportRead, VehicleType: strings.TrimSpace(x.VehicleType)}
	plate, color, err := plateText(x.LicensePlate)
	if errors.Is(err, errNoRead) {
		return rep, nil
	}
	if err != nil {
		return Report{}, err
	}
	rep.Read = readOf(plate, color, x.PlateColor)
	if s := strings.TrimSpace(x.ConfidenceLevel); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return Report{}, fmt.Errorf("confidenceLevel %q is not a number", s)
		}
		if rep.Read.Confidence, err = percent(v); err != nil {
			return Report{}, err
		}
	}
	switch strings.ToLower(strings.TrimSpace(x.Dangmark)) {
	case "yes":
		v := true
		rep.Read.Placard = &v
	case "no":
		v := false
		rep.Read.Placard = &v
	}
	// The pictures, by the type the alert gives each file (by the file's
	// own name when the alert lists none).
	var plateJPEG, sceneJPEG []byte
	types := map[string]string{}
	for _, p := range x.Pictures {
		types[strings.TrimSpace(p.FileName)] = strings.TrimSpace(p.Type)
	}
	for name, data := range pics {
		t := types[name]
		if t == "" {
			t = strings.TrimSuffix(name, ".jpg")
		}
		switch t {
		case "licensePlatePicture":
			plateJPEG = data
		case "detectionPicture", "vehiclePicture":
			sceneJPEG = data
		}
	}
	rep.Read.Pictures = pictures(plateJPEG, sceneJPEG)
	return rep, nil
}
