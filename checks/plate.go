package checks

import (
	"fmt"

	"github.com/hazgate/hazgate/registry"
)

// PlatePictures are a plate camera's JPEG pictures of one read: the plate
// close-up and the scene (the vehicle). Either may be nil. They are never
// changed once made, so a copy of the pointer is a copy.
type PlatePictures struct {
	Plate []byte
	Scene []byte
}

// plateColorWords names a plate colour in Chinese and English.
var plateColorWords = map[string][2]string{
	registry.PlateBlue:        {"蓝牌", "blue"},
	registry.PlateYellow:      {"黄牌", "yellow"},
	registry.PlateBlack:       {"黑牌", "black"},
	registry.PlateWhite:       {"白牌", "white"},
	registry.PlateGreen:       {"绿牌", "green"},
	registry.PlateYellowGreen: {"黄绿牌", "yellow-green"},
}

func colorWords(c string) [2]string {
	if w, ok := plateColorWords[c]; ok {
		return w
	}
	return [2]string{c, c}
}

// plateColor fails the tractor whose plate the camera read in another
// colour than the registry's: the plate may be cloned (套牌). Nothing is
// judged when either side does not say.
func (j *judge) plateColor(jd *judgement, role string, rec registry.Vehicle) {
	read := j.ev.PlateColor
	if role != "tractor" || read == "" || rec.PlateColor == "" || read == rec.PlateColor {
		return
	}
	// The detail is in each language's words: one reason, two details.
	r, g := colorWords(read), colorWords(rec.PlateColor)
	x := NewReason(ReasonPlateColorMismatch, role, fmt.Sprintf("read %s, registered %s", r[1], g[1]))
	x.ZH = NewReason(ReasonPlateColorMismatch, role, fmt.Sprintf("识别为%s，登记为%s", r[0], g[0])).ZH
	jd.fails = append(jd.fails, x)
}

// placard: with RequirePlacard, a tanker (a vehicle with a registered
// tank) on which the camera saw no danger mark, or that it cannot tell, is
// unknown: the operator looks.
func (j *judge) placard(jd *judgement) {
	if !j.p.RequirePlacard || j.ev.Plate == "" || (j.ev.Placard != nil && *j.ev.Placard) {
		return
	}
	carrier := j.tankCarrier()
	if _, tanker := j.reg.TankOn(carrier.plate); !tanker {
		return
	}
	jd.unsure(ReasonPlacardNotSeen, "vehicle", "")
}
