package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/hazgate/hazgate/config"
	"github.com/hazgate/hazgate/release"
	"github.com/hazgate/hazgate/uplink"
)

// cmdRelease is `hazgate release sign|verify`: the signature over a
// release's SHA-256 list (make dist signs with it).
func cmdRelease(_ context.Context, args []string, stdout, stderr io.Writer) error {
	const use = "usage: hazgate release sign -key FILE SHA256SUMS | hazgate release verify -keys KEY[,KEY] DIR|TARBALL"
	if len(args) == 0 {
		return usageError{use}
	}
	switch args[0] {
	case "sign":
		fs := flag.NewFlagSet("release sign", flag.ContinueOnError)
		fs.SetOutput(stderr)
		keyFile := fs.String("key", "", "the release's private key `FILE` (from hazgate keygen)")
		if err := fs.Parse(args[1:]); err != nil {
			return usageError{err.Error()}
		}
		if *keyFile == "" || fs.NArg() != 1 {
			return usageError{use}
		}
		data, err := os.ReadFile(*keyFile)
		if err != nil {
			return err
		}
		priv, err := uplink.ParsePrivateKey(data)
		if err != nil {
			return fmt.Errorf("%s: %w", *keyFile, err)
		}
		sums, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			return err
		}
		if _, err := release.ParseSums(sums); err != nil {
			return fmt.Errorf("%s: %w", fs.Arg(0), err)
		}
		out := fs.Arg(0) + ".sig"
		if err := os.WriteFile(out, release.Sign(priv, sums), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "signed %s: %s\n", fs.Arg(0), out)
		return nil
	case "verify":
		fs := flag.NewFlagSet("release verify", flag.ContinueOnError)
		fs.SetOutput(stderr)
		keys := fs.String("keys", "", "the trusted release `KEYS`, ed25519:<base64>, comma-separated, or @FILE (a .pub file)")
		if err := fs.Parse(args[1:]); err != nil {
			return usageError{err.Error()}
		}
		if *keys == "" || fs.NArg() != 1 {
			return usageError{use}
		}
		ks, err := readKeys(*keys)
		if err != nil {
			return err
		}
		r, cleanup, err := openRelease(fs.Arg(0), ks)
		if err != nil {
			return err
		}
		defer cleanup()
		fmt.Fprintf(stdout, "%s: %d files match the SHA-256 list signed by %s\n", fs.Arg(0), r.Files, r.Signer)
		return nil
	}
	return usageError{use}
}

// readKeys takes "k1,k2" or "@FILE" (one key a line).
func readKeys(s string) ([]string, error) {
	if f, ok := strings.CutPrefix(s, "@"); ok {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		s = strings.Join(strings.Fields(string(data)), ",")
	}
	return strings.Split(s, ","), nil
}

// openRelease verifies a release directory, or a tarball unpacked into a
// temporary directory (removed by cleanup).
func openRelease(p string, keys []string) (*release.Release, func(), error) {
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		r, err := release.Verify(p, keys)
		return r, func() {}, err
	}
	tmp, err := os.MkdirTemp("", "hazgate-release-")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	dir, err := release.Unpack(p, tmp)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	r, err := release.Verify(dir, keys)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return r, cleanup, nil
}

// cmdUpdate is `hazgate update -from TARBALL`: verify the release against
// update.release_keys, install its binary over the running one (kept as
// .old), restart, and put the old one back if the new one is not ready in
// time (docs/install.md, "Updating").
func cmdUpdate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("update", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the release `TARBALL` (make dist)")
	cfgPath := fs.String("config", "/etc/hazgate/hazgate.yaml", "the gate's configuration `FILE` (update.release_keys and the restart commands)")
	target := fs.String("target", "", "the installed binary to replace (default: this one)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *from == "" || fs.NArg() > 0 {
		return usageError{"usage: hazgate update -from TARBALL [-config FILE] [-target PATH]"}
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError(1)
	}
	up := cfg.Update.WithDefaults()
	if *target == "" {
		if *target, err = os.Executable(); err != nil {
			return err
		}
		if *target, err = filepath.EvalSymlinks(*target); err != nil {
			return err
		}
	}
	r, cleanup, err := openRelease(*from, up.ReleaseKeys)
	if err != nil {
		fmt.Fprintf(stderr, "hazgate update: %s is not installed: %v\n", *from, err)
		return exitError(1)
	}
	defer cleanup()
	// The new binary runs here (its architecture is this board's) and says
	// its version.
	out, err := exec.CommandContext(ctx, r.Binary, "version").Output()
	if err != nil {
		fmt.Fprintf(stderr, "hazgate update: %s is not installed: its binary does not run on this board (%v); is it the right architecture?\n", *from, err)
		return exitError(1)
	}
	fmt.Fprintf(stdout, "hazgate update: %s verified: %d files, signed by %s; new: %s", *from, r.Files, r.Signer, out)
	u := &release.Updater{
		Target: *target, Restart: up.RestartCommand, Ready: up.ReadyCommand, ReadyWithin: up.ReadyWithin.D(),
		Log: stdout,
	}
	if err := u.Install(ctx, r.Binary); err != nil {
		if errors.Is(err, release.ErrRolledBack) {
			fmt.Fprintf(stderr, "hazgate update: the new version was not ready within %v and was rolled back; the gate runs the previous version\n", up.ReadyWithin.D())
			if errs := strings.Split(err.Error(), "\n"); len(errs) > 1 {
				fmt.Fprintln(stderr, strings.Join(errs[1:], "\n"))
			}
			return exitError(1)
		}
		return err
	}
	fmt.Fprintln(stdout, "hazgate update: done")
	return nil
}
