package registry

import "strings"

// The plate colours of GA 36-2018 (机动车号牌), by the name hazgate uses in
// the registry (vehicles[].plate_color), in the camera's read and on the
// kiosk. A hazardous-goods tractor, trailer or rigid tanker carries a
// yellow plate (黄底黑字, a large vehicle); a large new-energy vehicle a
// yellow-and-green one (黄绿双拼).
const (
	PlateBlue        = "blue"         // 蓝底白字: small vehicles
	PlateYellow      = "yellow"       // 黄底黑字: large vehicles, trailers
	PlateBlack       = "black"        // 黑底白字: foreign-registered, Hong Kong and Macao entry
	PlateWhite       = "white"        // 白底黑字: police and the like
	PlateGreen       = "green"        // 渐变绿: small new-energy vehicles
	PlateYellowGreen = "yellow_green" // 黄绿双拼: large new-energy vehicles
)

// PlateColors lists the colours, in the order the docs give them.
var PlateColors = []string{PlateBlue, PlateYellow, PlateBlack, PlateWhite, PlateGreen, PlateYellowGreen}

// plateColorNames maps what a registry file or a camera may write (any
// case; Hikvision's and Dahua's English words, the Chinese ones) to the
// colour.
var plateColorNames = map[string]string{
	"blue": PlateBlue, "蓝": PlateBlue, "蓝色": PlateBlue,
	"yellow": PlateYellow, "黄": PlateYellow, "黄色": PlateYellow,
	"black": PlateBlack, "黑": PlateBlack, "黑色": PlateBlack,
	"white": PlateWhite, "白": PlateWhite, "白色": PlateWhite,
	"green": PlateGreen, "绿": PlateGreen, "绿色": PlateGreen, "newenergygreen": PlateGreen, "渐变绿": PlateGreen,
	"yellow_green": PlateYellowGreen, "yellowgreen": PlateYellowGreen, "yellowbottomgreen": PlateYellowGreen,
	"黄绿": PlateYellowGreen, "黄绿双拼": PlateYellowGreen,
}

// PlateColor returns the colour a word names, and whether it names one.
// "", "unknown", "other" and words of no colour above name none.
func PlateColor(word string) (string, bool) {
	c, ok := plateColorNames[strings.ToLower(strings.TrimSpace(word))]
	return c, ok
}
