package plate

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"mime/multipart"
	"net/textproto"
)

// What the cameras send, built as they build it: for the simulator's
// cameras and the tests. The shapes follow the public examples named in
// docs/devices.md.

// ISAPIBoundary is the multipart boundary the built pushes use (the
// style of the Hikvision example in docs/devices.md).
const ISAPIBoundary = "---------------------------7e13971310878"

// ISAPIAlert is an ANPR EventNotificationAlert for a read: confidence in
// 0..100, dangmark "yes", "no" or "unknown", and a pictureInfo for each
// picture given.
func ISAPIAlert(plate, color string, confidence int, dangmark string, plateJPEG, sceneJPEG bool) []byte {
	var b bytes.Buffer
	esc := func(s string) string { var x bytes.Buffer; xml.EscapeText(&x, []byte(s)); return x.String() }
	if color == "" {
		color = "unknown"
	}
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<EventNotificationAlert version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">
<channelID>1</channelID>
<eventType>ANPR</eventType>
<eventState>active</eventState>
<eventDescription>ANPR</eventDescription>
<ANPR>
<licensePlate>%s</licensePlate>
<confidenceLevel>%d</confidenceLevel>
<plateColor>%s</plateColor>
<dangmark>%s</dangmark>
<vehicleType>truck</vehicleType>
<pictureInfoList>
`, esc(plate), confidence, esc(color), esc(dangmark))
	if plateJPEG {
		b.WriteString("<pictureInfo><fileName>licensePlatePicture.jpg</fileName><type>licensePlatePicture</type><dataType>0</dataType></pictureInfo>\n")
	}
	if sceneJPEG {
		b.WriteString("<pictureInfo><fileName>detectionPicture.jpg</fileName><type>detectionPicture</type><dataType>0</dataType></pictureInfo>\n")
	}
	b.WriteString("</pictureInfoList>\n</ANPR>\n</EventNotificationAlert>\n")
	return b.Bytes()
}

// ISAPIHeartbeat is what a Hikvision camera sends as its heartbeat.
func ISAPIHeartbeat() []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<EventNotificationAlert version="2.0" xmlns="http://www.isapi.org/ver20/XMLSchema">
<channelID>1</channelID>
<eventType>videoloss</eventType>
<eventState>inactive</eventState>
<eventDescription>videoloss alarm</eventDescription>
</EventNotificationAlert>
`)
}

// ISAPIMultipart is the multipart body of an ANPR push: the alert as
// "anpr.xml", then each picture (nil: left out) under its file name. It
// returns the Content-Type and the body.
func ISAPIMultipart(alert, plateJPEG, sceneJPEG []byte) (string, []byte) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.SetBoundary(ISAPIBoundary)
	part := func(name, ctype string, data []byte) {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, name, name))
		h.Set("Content-Type", ctype)
		h.Set("Content-Length", fmt.Sprint(len(data)))
		w, _ := mw.CreatePart(h)
		w.Write(data)
	}
	part("anpr.xml", `application/xml; charset="UTF-8"`, alert)
	if plateJPEG != nil {
		part("licensePlatePicture.jpg", "image/jpeg", plateJPEG)
	}
	if sceneJPEG != nil {
		part("detectionPicture.jpg", "image/jpeg", sceneJPEG)
	}
	mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

// ITSAPITollgate is a Dahua TollgateInfo push for a read: colour as Dahua
// writes it (Yellow, Blue...), confidence in 0..100, the plate cut-out and
// the scene picture (nil: left out).
func ITSAPITollgate(plate, color string, confidence int, cutoutJPEG, sceneJPEG []byte) []byte {
	pic := map[string]any{
		"Plate":   map[string]any{"PlateNumber": plate, "PlateColor": color, "Confidence": confidence},
		"Vehicle": map[string]any{"VehicleType": "LargeTruck"},
	}
	if cutoutJPEG != nil {
		pic["CutoutPic"] = map[string]any{"Content": base64.StdEncoding.EncodeToString(cutoutJPEG), "PicName": "cutout.jpg"}
	}
	if sceneJPEG != nil {
		pic["NormalPic"] = map[string]any{"Content": base64.StdEncoding.EncodeToString(sceneJPEG), "PicName": "normal.jpg"}
	}
	b, _ := json.Marshal(map[string]any{"Picture": pic})
	return b
}

// ITSAPIKeepAlive is a Dahua keep-alive body.
func ITSAPIKeepAlive(device string) []byte {
	b, _ := json.Marshal(map[string]any{"Device": map[string]string{"DeviceID": device}})
	return b
}
