package record

import (
	"fmt"
	"time"

	"github.com/hazgate/hazgate/checks"
	"github.com/hazgate/hazgate/idnumber"
	"github.com/hazgate/hazgate/registry"
)

// fleetVehicle is one compliant combination of a synthetic fleet.
type fleetVehicle struct {
	plate, trailer, waybill string
	driver, escort          checks.PersonEvidence
}

// bigRegistry makes a synthetic registry of n vehicles (half tractors, half
// trailers with tanks), their crews and waybills valid around now; all
// compliant. ID numbers use the made-up region 990001.
func bigRegistry(n int, now time.Time) (*registry.Snapshot, []fleetVehicle) {
	d := func(s string) registry.Validity { v, _ := registry.ParseValidity(s); return v }
	far := now.AddDate(1, 0, 0).Format("2006-01-02")
	s := &registry.Snapshot{SyncedAt: registry.Instant(now)}
	var fleet []fleetVehicle
	for i := 0; i < n/2; i++ {
		tractor := fmt.Sprintf("测A%05d", i)
		trailer := fmt.Sprintf("测%05d挂", i)
		dID, _ := idnumber.Complete(fmt.Sprintf("9900011980%07d", 2*i))
		eID, _ := idnumber.Complete(fmt.Sprintf("9900011985%07d", 2*i+1))
		wb := fmt.Sprintf("YD%08d", i)
		v := registry.Vehicle{Kind: "tractor", LicenceValidUntil: d(far), PermitNo: fmt.Sprintf("P%06d", i), PermitValidUntil: d(far),
			PermitClasses: []string{"2", "3"}, InspectionValidUntil: d(far), RatedLoadKg: 40000}
		v.Plate = tractor
		s.Vehicles = append(s.Vehicles, v)
		v.Plate, v.Kind, v.RatedLoadKg = trailer, "trailer", 25000
		s.Vehicles = append(s.Vehicles, v)
		s.Tanks = append(s.Tanks, registry.Tank{ID: fmt.Sprintf("TK%06d", i), Vehicle: trailer, InspectionValidUntil: d(far), Media: []string{"UN1077", "UN1075"}})
		s.Persons = append(s.Persons,
			registry.Person{IDNumber: dID, Name: "测试司机", Certificates: []registry.Certificate{{Role: "driver", Number: "D", ValidUntil: d(far)}}},
			registry.Person{IDNumber: eID, Name: "测试押运", Certificates: []registry.Certificate{{Role: "escort", Number: "E", ValidUntil: d(far)}}})
		s.Waybills = append(s.Waybills, registry.Waybill{Number: wb, Vehicle: tractor, Trailer: trailer, Driver: dID, Escort: eID,
			ValidFrom: registry.Instant(now.Add(-time.Hour)), ValidUntil: registry.Instant(now.Add(30 * 24 * time.Hour)),
			Goods: []registry.Good{{UN: "UN1077", Name: "丙烯", Class: "2.1", QuantityKg: 24000}}})
		fleet = append(fleet, fleetVehicle{plate: tractor, trailer: trailer, waybill: wb,
			driver: checks.PersonEvidence{IDNumber: dID, Name: "测试司机"},
			escort: checks.PersonEvidence{IDNumber: eID, Name: "测试押运"}})
	}
	return s, fleet
}
