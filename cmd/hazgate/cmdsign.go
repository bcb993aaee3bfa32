package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hazgate/hazgate/uplink"
)

// cmdCommand is `hazgate cmd sign`: it prints a signed command envelope,
// ready to publish on <root>/cmd/<name> (docs/uplink.md "Commands").
func cmdCommand(_ context.Context, args []string, stdout, stderr io.Writer) error {
	const use = "usage: hazgate cmd sign -key FILE -name open|lockdown|release|resync [-args JSON] [-target ROOT] [-ttl 5m] [-by NAME]"
	if len(args) == 0 || args[0] != "sign" {
		return usageError{use}
	}
	fs := flag.NewFlagSet("cmd sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key", "", "the private key `FILE` (from hazgate keygen)")
	name := fs.String("name", "", "the command: open, lockdown, release or resync")
	argsJSON := fs.String("args", "", "the command's arguments as `JSON`, e.g. '{\"on\":true}'")
	target := fs.String("target", "", "the gate's topic `ROOT` (hazgate/<park>/<gate>); required for open and release, empty = any gate")
	ttl := fs.Duration("ttl", 5*time.Minute, "how long the command stays valid (at most the gate's limit, 1h by default)")
	by := fs.String("by", "", "who gives the command (audited), default $USER")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if *keyFile == "" || *name == "" || fs.NArg() > 0 {
		return usageError{use}
	}
	switch *name {
	case uplink.CmdOpen, uplink.CmdLockdown, uplink.CmdRelease, uplink.CmdResync:
	default:
		return usageError{fmt.Sprintf("-name %q: not open, lockdown, release or resync", *name)}
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
	data, err := os.ReadFile(*keyFile)
	if err != nil {
		return err
	}
	priv, err := uplink.ParsePrivateKey(data)
	if err != nil {
		return fmt.Errorf("%s: %w", *keyFile, err)
	}
	who := *by
	if who == "" {
		who = os.Getenv("USER")
	}
	now := time.Now()
	env, err := uplink.Sign(priv, uplink.Command{
		Name: *name, Target: *target, Args: raw, Nonce: uplink.NewNonce(),
		IssuedAt: now.UTC().Truncate(time.Second), ExpiresAt: now.Add(*ttl).UTC().Truncate(time.Second), By: who,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", env)
	return nil
}
