package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/hazgate/hazgate/registry"
)

// The registry's appointments (migration 21): one row per appointment, by
// id, with its normalised plate and its JSON.

// writeAppointments inserts as (replacing rows with the same id); with
// clear, every stored appointment goes first (a snapshot). field names
// the list in errors ("appointments", "upsert.appointments").
func writeAppointments(ctx context.Context, tx *sql.Tx, field string, as []registry.Appointment, clear bool) error {
	if clear {
		if _, err := tx.ExecContext(ctx, `DELETE FROM appointments`); err != nil {
			return fmt.Errorf("clear appointments: %w", err)
		}
	}
	if len(as) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO appointments (id, plate, doc) VALUES (?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for i, a := range as {
		doc, err := json.Marshal(a)
		if err == nil {
			_, err = st.ExecContext(ctx, a.ID, registry.NormalizePlate(a.Plate), string(doc))
		}
		if err != nil {
			return fmt.Errorf("%s[%d]: %w", field, i, err)
		}
	}
	return nil
}

// deleteAppointments deletes the appointments with these ids.
func deleteAppointments(ctx context.Context, tx *sql.Tx, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	arr, err := json.Marshal(ids)
	if err == nil {
		_, err = tx.ExecContext(ctx, `DELETE FROM appointments WHERE id IN (SELECT value FROM json_each(?))`, string(arr))
	}
	if err != nil {
		return fmt.Errorf("delete.appointments: %w", err)
	}
	return nil
}

// loadAppointments adds the stored appointments to b.
func loadAppointments(ctx context.Context, q querier, b *registry.IndexBuilder) error {
	return loadDocs(ctx, q, func(doc []byte) (registry.Appointment, error) {
		var a registry.Appointment
		if err := json.Unmarshal(doc, &a); err != nil {
			return a, err
		}
		b.Appointment(a)
		return a, nil
	}, "appointments", `SELECT doc FROM appointments`)
}

// roundTripAppointments are as as the table gives them back (instants
// keep whole seconds): what the index holds after an import or a delta is
// what Open would read.
func roundTripAppointments(as []registry.Appointment) ([]registry.Appointment, error) {
	_, back, err := roundTrip("appointments", as, false)
	return back, err
}
