package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hazgate/hazgate/uplink"
)

// cmdCommand is `hazgate cmd sign`: it prints a signed command envelope,
// ready to publish on <root>/cmd/<name> (docs/uplink.md "Commands").
func cmdCommand(_ context.Context, args []string, stdout, stderr io.Writer) error {
	const use = "usage: hazgate cmd sign -key FILE -name open|lockdown|release|resync|replay [-args JSON] [-target ROOT] [-ttl 5m] [-by NAME]"
	if len(args) == 0 || args[0] != "sign" {
		return usageError{use}
	}
	fs := flag.NewFlagSet("cmd sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key", "", "the private key `FILE` (from hazgate keygen)")
	name := fs.String("name", "", "the command: open, lockdown, release, resync or replay")
	argsJSON := fs.String("args", "", "the command's arguments as `JSON`, e.g. '{\"on\":true}'")
	target := fs.String("target", "", "the gate's topic `ROOT` (hazgate/<park>/<gate>); required for open and release, empty = any gate")
	ttl := fs.Duration("ttl", 5*time.Minute, "how long the command stays valid")
	maxTTL := fs.Duration("max-ttl", uplink.DefaultCommandMaxTTL, "the gates' limit on -ttl (mqtt.command_max_ttl in their configuration)")
	by := fs.String("by", "", "who gives the command (audited), default $USER")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if *keyFile == "" || *name == "" || fs.NArg() > 0 {
		return usageError{use}
	}
	if *ttl <= 0 {
		return usageError{"-ttl must be positive"}
	}
	var raw json.RawMessage
	if *argsJSON != "" {
		if !json.Valid([]byte(*argsJSON)) {
			return usageError{fmt.Sprintf("-args %q is not JSON", *argsJSON)}
		}
		raw = json.RawMessage(*argsJSON)
	}
	who := *by
	if who == "" {
		who = os.Getenv("USER")
	}
	now := time.Now()
	c := uplink.Command{
		V: 1, Name: *name, Target: *target, Args: raw, Nonce: uplink.NewNonce(),
		IssuedAt: now.UTC().Truncate(time.Second), ExpiresAt: now.Add(*ttl).UTC().Truncate(time.Second), By: who,
	}
	// What the gate would refuse is not signed: the same rules, here.
	if err := uplink.CheckCommand(&c, *maxTTL); err != nil {
		return usageError{signRefusal(err, *maxTTL)}
	}
	priv, err := loadPrivateKey(*keyFile)
	if err != nil {
		return err
	}
	env, err := uplink.Sign(priv, c)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", env)
	return nil
}

// signRefusal says in plain words why a command is not signed.
func signRefusal(err error, maxTTL time.Duration) string {
	var re *uplink.RefusedError
	if !errors.As(err, &re) {
		return err.Error()
	}
	switch re.Reason {
	case uplink.RefuseWrongTarget:
		return "-target: " + re.Detail + " (hazgate/<park>/<gate>)"
	case uplink.RefuseTTL:
		return fmt.Sprintf("-ttl: the gates refuse a command valid for more than %v (-max-ttl)", maxTTL)
	case uplink.RefuseUnknown:
		return fmt.Sprintf("-name %s: not open, lockdown, release, resync or replay", re.Detail)
	case uplink.RefuseBadArgs:
		return "-args: " + re.Detail
	case uplink.RefuseMalformed:
		if strings.HasPrefix(re.Detail, "by:") {
			return "-by: who gives the command is required ($USER is empty)"
		}
	}
	return re.Detail
}

// loadPrivateKey reads a private key file that hazgate keygen wrote.
func loadPrivateKey(file string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	priv, err := uplink.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return priv, nil
}
