package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/hazgate/hazgate/release"
)

// releaseKey makes a release key pair with `hazgate keygen` and returns
// the private key's file and the public key.
func releaseKey(t *testing.T) (keyFile, pub string) {
	t.Helper()
	prefix := filepath.Join(t.TempDir(), "release")
	if code, _, stderr := run(t, "keygen", "-out", prefix); code != 0 {
		t.Fatalf("keygen: %s", stderr)
	}
	b, err := os.ReadFile(prefix + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return prefix + ".key", strings.TrimSpace(string(b))
}

// updateConfig writes a gate configuration whose update section trusts
// pub and restarts the stand-in service: the restart command runs the
// installed binary as `$HAZGATE version` into dir/state, the ready
// command looks for "hazgate" there.
func updateConfig(t *testing.T, dir, pub string) string {
	t.Helper()
	state := filepath.Join(dir, "state")
	cfg := filepath.Join(dir, "hazgate.yaml")
	yml := fmt.Sprintf(`park: p1
gate: g1
database: %s
lanes:
  - name: in-1
    direction: in
    idcard: {port: /dev/ttyUSB0}
    scanner: {port: /dev/ttyUSB1}
    arrival_loop: {pin: GPIO17}
    safety_loop: {pin: GPIO27}
    barrier: {open_pin: GPIO22, close_pin: GPIO23}
update:
  release_keys: [%q]
  restart_command: 'rm -f %s; "$HAZGATE" version > %s 2>&1 || true'
  ready_command: 'grep -q "^hazgate " %s'
  ready_within: 1s
`, filepath.Join(dir, "gate.db"), pub, state, state, state)
	if err := os.WriteFile(cfg, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func sh(t *testing.T, dir, script string) string {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return string(out)
}

// `make dist` for this machine's architecture (the ARM cross-builds are
// make cross's): the tarballs' list and each tarball's list verify with
// sha256sum -c, the signature with `hazgate release verify`, the binary
// says the version git describes; then `hazgate update` installs it over
// a stand-in and the stand-in service comes up with it.
func TestMakeDistVerifiesAndInstalls(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the release")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	arch := runtime.GOARCH
	if arch == "arm" {
		arch = "armv7"
	}
	if arch != "amd64" && arch != "arm64" && arch != "armv7" {
		t.Skipf("make dist builds no %s release", arch)
	}
	keyFile, pub := releaseKey(t)
	dist := t.TempDir()
	version := strings.TrimSpace(sh(t, ".", "git describe --tags --always --dirty"))
	out := sh(t, "../..", fmt.Sprintf("make dist DIST=%s DIST_ARCHS=%s RELEASE_KEY=%s", dist, arch, keyFile))
	if strings.Contains(out, "DEVELOPMENT key") {
		t.Fatalf("make dist with RELEASE_KEY says it used the development key:\n%s", out)
	}
	name := "hazgate-" + version + "-linux-" + arch
	tarball := filepath.Join(dist, name+".tar.gz")
	sh(t, dist, "sha256sum -c SHA256SUMS")
	sh(t, dist, "tar xzf "+name+".tar.gz")
	sh(t, filepath.Join(dist, name), "sha256sum -c --strict SHA256SUMS")
	for _, f := range []string{"hazgate", "VERSION", "SHA256SUMS.sig", "firmware-config/systemd/hazgate.service", "firmware-config/udev/99-hazgate.rules"} {
		if _, err := os.Stat(filepath.Join(dist, name, f)); err != nil {
			t.Fatalf("the release has no %s: %v", f, err)
		}
	}
	if got := sh(t, filepath.Join(dist, name), "./hazgate version"); !strings.HasPrefix(got, "hazgate "+version+" (commit ") {
		t.Fatalf("the released binary says %q, want version %s", got, version)
	}
	code, stdout, stderr := run(t, "release", "verify", "-keys", pub, tarball)
	if code != 0 || !strings.Contains(stdout, "match the SHA-256 list signed by "+pub) {
		t.Fatalf("release verify: %d %s %s", code, stdout, stderr)
	}
	if code, stdout, _ := run(t, "release", "verify", "-keys", pub, filepath.Join(dist, "SHA256SUMS")); code == 0 {
		t.Fatalf("release verify took a bare list as a release: %s", stdout)
	}
	// The list of tarballs is signed too.
	sums, _ := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	sig, _ := os.ReadFile(filepath.Join(dist, "SHA256SUMS.sig"))
	if _, err := release.VerifySig(sums, sig, []string{pub}); err != nil {
		t.Fatalf("dist/SHA256SUMS.sig: %v", err)
	}
	// A key the gate does not trust.
	_, otherPub := releaseKey(t)
	if code, _, stderr := run(t, "release", "verify", "-keys", otherPub, tarball); code != 1 || !strings.Contains(stderr, "not one of the 1 configured release keys") {
		t.Fatalf("release verify with another key: %d %s", code, stderr)
	}

	// hazgate update over a stand-in installed binary.
	dir := t.TempDir()
	target := filepath.Join(dir, "hazgate")
	if err := os.WriteFile(target, []byte("#!/bin/sh\necho 'hazgate old'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := updateConfig(t, dir, pub)
	code, stdout, stderr = run(t, "update", "-from", tarball, "-config", cfg, "-target", target)
	if code != 0 || !strings.Contains(stdout, "hazgate update: the new binary is ready") {
		t.Fatalf("update: status %d\n%s\n%s", code, stdout, stderr)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "state")); !strings.HasPrefix(string(got), "hazgate "+version) {
		t.Fatalf("the restarted service says %q, want version %s", got, version)
	}
	if got, _ := os.ReadFile(target + ".old"); string(got) != "#!/bin/sh\necho 'hazgate old'\n" {
		t.Fatalf("%s.old holds %q, want the previous binary", target, got)
	}
}

// `hazgate update` with a signed release whose binary never becomes
// ready: the previous one is put back and restarted, exit status 1.
func TestUpdateRollsBack(t *testing.T) {
	keyFile, pub := releaseKey(t)
	dir := t.TempDir()
	// The release: a stand-in binary that answers version and then, run as
	// the service, never writes the state that says it is ready.
	rel := filepath.Join(dir, "hazgate-v9-linux-test")
	os.MkdirAll(filepath.Join(rel, "firmware-config"), 0o755)
	never := "#!/bin/sh\n[ -n \"$STANDIN_SERVICE\" ] && exit 1\necho 'hazgate v9-never-ready'\n"
	if err := os.WriteFile(filepath.Join(rel, "hazgate"), []byte(never), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(rel, "VERSION"), []byte("v9\n"), 0o644)
	sh(t, rel, "sha256sum hazgate VERSION > SHA256SUMS")
	if code, _, stderr := run(t, "release", "sign", "-key", keyFile, filepath.Join(rel, "SHA256SUMS")); code != 0 {
		t.Fatalf("release sign: %s", stderr)
	}
	sh(t, dir, "tar czf rel.tar.gz hazgate-v9-linux-test")

	target := filepath.Join(dir, "bin", "hazgate")
	os.MkdirAll(filepath.Dir(target), 0o755)
	old := "#!/bin/sh\necho 'hazgate v8'\n"
	if err := os.WriteFile(target, []byte(old), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := updateConfig(t, dir, pub)
	t.Setenv("STANDIN_SERVICE", "")
	// The restart runs the binary as the service would: with the variable.
	text, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.ReplaceAll(string(text), `"$HAZGATE" version`, `STANDIN_SERVICE=1 "$HAZGATE" version`)), 0o600)

	code, stdout, stderr := run(t, "update", "-from", filepath.Join(dir, "rel.tar.gz"), "-config", cfg, "-target", target)
	if code != 1 || !strings.Contains(stderr, "the new version was not ready within 1s and was rolled back; the gate runs the previous version") {
		t.Fatalf("update: status %d\n%s\n%s", code, stdout, stderr)
	}
	if got, _ := os.ReadFile(target); string(got) != old {
		t.Fatalf("%s holds %q after the rollback, want the previous binary", target, got)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "state")); string(got) != "hazgate v8\n" {
		t.Fatalf("the service after the rollback says %q, want the previous version running", got)
	}
	for _, want := range []string{"new: hazgate v9-never-ready", "did not become ready", "the previous binary is back", "the previous binary is ready"} {
		if !strings.Contains(stdout, want) {
			t.Fatalf("update does not say %q:\n%s", want, stdout)
		}
	}

	// A release changed after it was signed is not installed at all.
	os.WriteFile(filepath.Join(rel, "hazgate"), []byte("#!/bin/sh\necho evil\n"), 0o755)
	sh(t, dir, "tar czf evil.tar.gz hazgate-v9-linux-test")
	code, _, stderr = run(t, "update", "-from", filepath.Join(dir, "evil.tar.gz"), "-config", cfg, "-target", target)
	if code != 1 || !strings.Contains(stderr, "is not installed: release: hazgate: SHA-256") {
		t.Fatalf("update of a changed release: status %d\n%s", code, stderr)
	}
	if got, _ := os.ReadFile(target); string(got) != old {
		t.Fatalf("%s changed by a refused update", target)
	}
}
