// Command hazgate is the hazardous-chemicals gate appliance: `hazgate run`
// on the gate controller, `hazgate sim` on a laptop or in CI. It only wires
// the packages together; see `hazgate help`.
//
// It sits on top of every other package (docs/design.md, "Package map");
// nothing imports it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // the gate controller may have no zoneinfo; Asia/Shanghai must resolve
)

// main runs the command until it ends, or stops it on SIGINT or SIGTERM:
// within stopBound of the signal, or at once on a second one (stop.go).
func main() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	name := "hazgate"
	for i, a := range os.Args[1:min(3, len(os.Args))] {
		if i > 0 && strings.HasPrefix(a, "-") {
			break
		}
		name += " " + a // "hazgate run", "hazgate idcard read"
	}
	os.Exit(untilSignalled(sigs, os.Stderr, name, stopBound, func(ctx context.Context) int {
		return Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	}))
}

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// commands maps a command word to its implementation.
var commands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"run":      cmdRun,
	"sim":      cmdSim,
	"config":   cmdConfig,
	"registry": cmdRegistry,
	"version":  cmdVersion,
	"keygen":   cmdKeygen,
	"cmd":      cmdCommand,
	"watch":    cmdWatch,
	"idcard":   cmdIDCard,
	"operator": cmdOperator,
	"audit":    cmdAudit,
	"backup":   cmdBackup,
	"restore":  cmdRestore,
	"release":  cmdRelease,
	"update":   cmdUpdate,
}

const usage = `hazgate: hazardous-chemicals vehicle gate (五必查 five mandatory checks)

usage:
  hazgate run -config FILE                           the appliance: real devices, checks, store, uplink
  hazgate sim [-once] [-speed N] [-db FILE]          the whole gate on simulated hardware, running the built-in demo
  hazgate sim -scenario FILE [-report FILE] [-speed N] run a scenario; exit 1 if any verdict differs from expect
  hazgate config check FILE                          validate a configuration
  hazgate registry import FILE -db FILE              load registry YAML/JSON into a store
  hazgate operator add -db FILE -name N -role operator|supervisor  add a kiosk account (password from the terminal or stdin)
  hazgate operator disable|enable -db FILE -name N   stop an account signing in (its sessions end), or allow it again
  hazgate operator list -db FILE                     the kiosk accounts
  hazgate operator unlock -db FILE -name N [-reason T]  clear an account's sign-in lockouts (audited)
  hazgate audit verify -db FILE                      walk the audit hash chain; exit 1 naming the first broken entry
  hazgate backup -db FILE -to FILE                   a verified copy of the database, while the gate runs
  hazgate restore -from FILE -db FILE [-force]       replace the database with a verified backup of this gate
  hazgate idcard read -port DEV [-baud N] [-timeout D] wait for an ID card and print it as JSON
  hazgate version                                    version, commit, build date
  hazgate watch -broker URL [-root hazgate/<park>] [-json] [-replay-key FILE]  the feed, each gate live; gaps and duplicates in its events
  hazgate keygen -out PREFIX                         an Ed25519 key pair for signing remote commands
  hazgate release sign -key FILE SHA256SUMS          sign a release's SHA-256 list (make dist does)
  hazgate release verify -keys KEY[,KEY] DIR|TARBALL check a release's signature and SHA-256 list
  hazgate update -from TARBALL [-config FILE]        install a signed release; the old binary back if the new one is not ready
  hazgate cmd sign -key FILE -name NAME [-args JSON] [-target ROOT] [-ttl 5m]  print a signed command

Run "hazgate COMMAND -h" for a command's flags.
`

// Main runs hazgate with args and returns the exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "hazgate: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	err := cmd(ctx, args[1:], stdout, stderr)
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		// Stopped (SIGINT, SIGTERM) before it finished what it was doing.
		fmt.Fprintf(stderr, "hazgate %s: stopped before it finished\n", args[0])
		return 1
	}
	switch e := err.(type) {
	case nil:
		return 0
	case usageError:
		if e.msg == flag.ErrHelp.Error() {
			return 0 // -h: the flag set has printed the usage, asked for
		}
		fmt.Fprintf(stderr, "hazgate %s: %s\n", args[0], e.msg)
		return 2
	case exitError:
		return int(e)
	default:
		fmt.Fprintf(stderr, "hazgate %s: %v\n", args[0], err)
		return 1
	}
}

// exitError ends the command with a status after it has said why itself.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
