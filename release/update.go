package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hazgate/hazgate/atomicfile"
)

// Updater installs a verified release's binary over Target and restarts
// the service; when the new one is not ready within ReadyWithin, it puts
// the old one back and restarts again.
//
// Restart and Ready are shell commands (sh -c), with $HAZGATE the installed
// binary's path in their environment. Under systemd they are `systemctl
// restart hazgate.service`, which for a Type=notify service returns only
// once the new process has sent READY=1 (hazgate does once every lane
// runs) and fails when it exits or times out first, and `systemctl
// is-active --quiet hazgate.service`, which fails while the service is
// activating, restarting or failed. (A --no-block restart would not do:
// is-active still answers for the old process until the stop job runs.)
type Updater struct {
	Target      string        // the installed binary, e.g. /usr/local/bin/hazgate
	Restart     string        // restarts the service
	Ready       string        // exits 0 once the service is ready
	ReadyWithin time.Duration // the bound on becoming ready
	Poll        time.Duration // how often Ready is asked (default 500 ms)
	Log         io.Writer     // one line per step
}

// ErrRolledBack is the error of an update whose new binary did not become
// ready: the old one is back in place.
var ErrRolledBack = errors.New("release: the new binary did not become ready; the previous one is restored")

// Paths beside the target.
func (u *Updater) newPath() string { return u.Target + ".new" }
func (u *Updater) oldPath() string { return u.Target + ".old" }

// Install copies bin to Target.new (synced), keeps a copy of the current
// Target as Target.old, and renames Target.new over Target; then restarts
// and waits for Ready. A new binary that is not ready in time is replaced
// by Target.old, the service restarted again, and ErrRolledBack returned
// (joined with whether the old one came back).
func (u *Updater) Install(ctx context.Context, bin string) error {
	if u.Poll <= 0 {
		u.Poll = 500 * time.Millisecond
	}
	if _, err := os.Stat(u.Target); err != nil {
		return fmt.Errorf("release: the installed binary %s: %w", u.Target, err)
	}
	if err := copyFile(bin, u.newPath(), 0o755); err != nil {
		return fmt.Errorf("release: writing %s: %w", u.newPath(), err)
	}
	os.Remove(u.oldPath())
	// A hard link keeps the running binary's file as it is; where links
	// are not possible (another filesystem), a copy.
	if err := os.Link(u.Target, u.oldPath()); err != nil {
		if err := copyFile(u.Target, u.oldPath(), 0o755); err != nil {
			os.Remove(u.newPath())
			return fmt.Errorf("release: keeping the old binary as %s: %w", u.oldPath(), err)
		}
	}
	if err := os.Rename(u.newPath(), u.Target); err != nil {
		os.Remove(u.newPath())
		return fmt.Errorf("release: installing %s: %w", u.Target, err)
	}
	atomicfile.SyncDir(filepath.Dir(u.Target))
	u.say("installed the new binary as %s; the previous one is kept as %s", u.Target, u.oldPath())
	err := u.restartAndWait(ctx)
	if err == nil {
		u.say("the new binary is ready")
		return nil
	}
	u.say("the new binary did not become ready (%v); restoring the previous one", err)
	if err := os.Rename(u.oldPath(), u.Target); err != nil {
		return errors.Join(ErrRolledBack, fmt.Errorf("release: restoring %s from %s failed: %w; restore it by hand: mv %s %s", u.Target, u.oldPath(), err, u.oldPath(), u.Target))
	}
	atomicfile.SyncDir(filepath.Dir(u.Target))
	u.say("the previous binary is back as %s", u.Target)
	if err := u.restartAndWait(ctx); err != nil {
		return errors.Join(ErrRolledBack, fmt.Errorf("release: the previous binary did not become ready either: %w", err))
	}
	u.say("the previous binary is ready")
	return ErrRolledBack
}

// restartAndWait runs Restart, then Ready every Poll until it succeeds;
// both within ReadyWithin. A restart command that fails or outlasts the
// bound is a binary that did not become ready.
func (u *Updater) restartAndWait(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, u.ReadyWithin)
	defer cancel()
	u.say("restarting: %s", u.Restart)
	if out, err := u.sh(ctx, u.Restart); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("the restart did not finish within %v", u.ReadyWithin)
		}
		return fmt.Errorf("the restart command failed: %v %s", err, strings.TrimSpace(out))
	}
	tick := time.NewTicker(u.Poll)
	defer tick.Stop()
	for {
		if _, err := u.sh(ctx, u.Ready); err == nil {
			return nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("not ready within %v", u.ReadyWithin)
		}
	}
}

func (u *Updater) sh(ctx context.Context, command string) (string, error) {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.Env = append(os.Environ(), "HAZGATE="+u.Target)
	// A command past the bound is killed with everything it started (its
	// process group), not only the shell.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (u *Updater) say(format string, args ...any) {
	if u.Log != nil {
		fmt.Fprintf(u.Log, "hazgate update: "+format+"\n", args...)
	}
}

// copyFile writes src to dst (replaced if there) through a temporary file,
// synced, then renamed.
func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return atomicfile.Copy(dst, in, mode)
}
