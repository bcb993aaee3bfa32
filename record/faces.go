package record

import (
	"context"
	"sync"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/store"
)

// Media kinds of the face images kept with an inspection: the live picture
// sent to the face-match service and the card photo it answered, for the
// driver and the escort. They stay in the store for the face-image
// retention (`retention`) and go into no event: nothing sends them
// upstream.
const (
	MediaFaceDriver = "face_driver"
	MediaCardDriver = "card_driver"
	MediaFaceEscort = "face_escort"
	MediaCardEscort = "card_escort"
)

// FaceSource gives the images of the last face match of a person at a
// lane, once: the live picture and the card photo, either nil when absent
// (a *facematch.Photos does).
type FaceSource interface {
	TakeFaces(lane, idNumber string) (live, card []byte, ok bool)
}

// faceKeeper stores the face images of decided inspections, off the
// decision path.
type faceKeeper struct {
	wg sync.WaitGroup
}

// keepFaces takes the face images of the inspection's people and stores
// them with it, in the background: the barrier does not wait on them.
func (g *Keeper) keepFaces(laneName, inspectionID string, ev checks.Evidence, at time.Time) {
	if g.Faces == nil {
		return
	}
	var media []store.Media
	for _, p := range []struct {
		who        *checks.PersonEvidence
		face, card string
	}{{ev.Driver, MediaFaceDriver, MediaCardDriver}, {ev.Escort, MediaFaceEscort, MediaCardEscort}} {
		if p.who == nil {
			continue
		}
		live, card, ok := g.Faces.TakeFaces(laneName, p.who.IDNumber)
		if !ok {
			continue
		}
		if len(live) > 0 {
			media = append(media, store.Media{InspectionID: inspectionID, Kind: p.face, Data: live, CreatedAt: at})
		}
		if len(card) > 0 {
			media = append(media, store.Media{InspectionID: inspectionID, Kind: p.card, Data: card, CreatedAt: at})
		}
	}
	if len(media) == 0 {
		return
	}
	g.faces.wg.Add(1)
	go func() {
		defer g.faces.wg.Done()
		// In one transaction: the kiosk shows all of them or none yet.
		if err := g.Store.PutMediaAll(context.Background(), media...); err != nil {
			g.Log.Error("face images not kept", "lane", laneName, "inspection", inspectionID, "n", len(media), "err", err)
		}
	}()
}

// WaitFaces waits until the face images of the inspections decided so far
// are stored (tests, and a clean shutdown).
func (g *Keeper) WaitFaces() { g.faces.wg.Wait() }
