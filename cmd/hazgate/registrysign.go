package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/uplink"
)

const registrySignUse = "usage: hazgate registry sign -key FILE (-delta FILE | -snapshot FILE [-version N] [-chunk-size BYTES])"

// cmdRegistrySign signs registry data for the gates' mqtt.registry_keys
// (docs/uplink.md "Signed registry data"): a delta becomes one message for
// <registry_topic>/delta, a snapshot one message per chunk for
// <registry_topic>/snapshot, printed one per line (mosquitto_pub -l reads
// them so). What a gate would refuse is not signed.
func cmdRegistrySign(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("registry sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key", "", "the private key `FILE` (from hazgate keygen)")
	deltaFile := fs.String("delta", "", "a registry delta's JSON `FILE` (schema, base, version, upsert, delete)")
	snapFile := fs.String("snapshot", "", "a registry `FILE` (YAML or JSON, as hazgate registry import reads it)")
	version := fs.Int64("version", 0, "the snapshot's version (default: the file's version:)")
	chunkSize := fs.Int("chunk-size", 256<<10, "the most bytes of the snapshot in one message")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *keyFile == "" || fs.NArg() > 0 || (*deltaFile == "") == (*snapFile == "") {
		return usageError{registrySignUse}
	}
	if *chunkSize < 1024 {
		return usageError{"-chunk-size: at least 1024 bytes (a gate refuses more than registry_max_bytes / 1 KiB chunks)"}
	}
	priv, err := loadPrivateKey(*keyFile)
	if err != nil {
		return err
	}
	if *deltaFile != "" {
		d, err := readDelta(*deltaFile)
		if err != nil {
			return err
		}
		msg, err := uplink.SignDelta(priv, d)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", msg)
		return nil
	}
	data, err := os.ReadFile(*snapFile)
	if err != nil {
		return err
	}
	snap, err := registry.Decode(data, *snapFile)
	if err != nil {
		return fmt.Errorf("%s: not signed:\n%s", *snapFile, importProblems(err))
	}
	v := *version
	if v == 0 {
		v = snap.Version
	}
	if v < 1 {
		return usageError{fmt.Sprintf("%s has no version: give -version N (above the gates' registry version)", *snapFile)}
	}
	snap.Version = v
	snapJSON, err := json.Marshal(snap)
	if err != nil {
		return err
	}
	chunks, err := uplink.SignSnapshot(priv, v, snapJSON, *chunkSize)
	if err != nil {
		return err
	}
	for _, c := range chunks {
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", b)
	}
	return nil
}

// readDelta reads a delta's JSON strictly and checks its records as a gate
// would, so that what a gate refuses is not signed.
func readDelta(file string) (uplink.Delta, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return uplink.Delta{}, err
	}
	var d uplink.Delta
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return d, fmt.Errorf("%s: not a registry delta: %s", file, strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); err != io.EOF {
		return d, fmt.Errorf("%s: more after the delta: one JSON object only", file)
	}
	if d.Schema == "" {
		d.Schema = uplink.SchemaRegistryDelta
	}
	var problems []string
	switch {
	case d.Schema != uplink.SchemaRegistryDelta:
		problems = append(problems, fmt.Sprintf("schema: %q is not %q", d.Schema, uplink.SchemaRegistryDelta))
	case d.Version < d.Base || d.Version < 1:
		problems = append(problems, fmt.Sprintf("version: %d must be at least 1 and not below base %d", d.Version, d.Base))
	}
	for _, p := range d.Upsert.Validate() {
		problems = append(problems, "upsert."+p.Field+": "+p.Msg)
	}
	if len(problems) > 0 {
		return d, fmt.Errorf("%s: not signed:\n  %s", file, strings.Join(problems, "\n  "))
	}
	return d, nil
}
