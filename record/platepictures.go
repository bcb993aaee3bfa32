package record

import (
	"context"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/store"
)

// Media kinds of the plate camera's pictures kept with an inspection: the
// plate close-up and the scene. Like the face images they stay for the
// retention (`retention`), are purged with them and go into no event.
const (
	MediaPlate = "plate"
	MediaScene = "plate_scene"
)

// keepPlatePictures stores the plate camera's pictures of the read the
// inspection was decided on, in the background and in one transaction.
func (g *Keeper) keepPlatePictures(laneName, inspectionID string, ev checks.Evidence, at time.Time) {
	p := ev.Pictures
	if p == nil {
		return
	}
	var media []store.Media
	if len(p.Plate) > 0 {
		media = append(media, store.Media{InspectionID: inspectionID, Kind: MediaPlate, Data: p.Plate, CreatedAt: at})
	}
	if len(p.Scene) > 0 {
		media = append(media, store.Media{InspectionID: inspectionID, Kind: MediaScene, Data: p.Scene, CreatedAt: at})
	}
	if len(media) == 0 {
		return
	}
	g.faces.wg.Add(1)
	go func() {
		defer g.faces.wg.Done()
		if err := g.Store.PutMediaAll(context.Background(), media...); err != nil {
			g.Log.Error("plate pictures not kept", "lane", laneName, "inspection", inspectionID, "n", len(media), "err", err)
		}
	}()
}
