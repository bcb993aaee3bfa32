package release

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hazgate/hazgate/uplink"
)

func newKey(t *testing.T) (ed25519.PrivateKey, string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv, uplink.PublicKeyString(pub)
}

// releaseDir writes files (path -> content) into a new release directory
// with their list, signed by priv.
func releaseDir(t *testing.T, priv ed25519.PrivateKey, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hazgate-test-linux-amd64")
	var sums strings.Builder
	var names []string
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(files[name]), 0o755); err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256([]byte(files[name]))
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(h[:]), name)
	}
	if err := os.WriteFile(filepath.Join(dir, SumsFile), []byte(sums.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, SigFile), Sign(priv, []byte(sums.String())), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

var someFiles = map[string]string{
	"hazgate": "#!/bin/sh\necho hazgate test\n",
	"VERSION": "v1.2.3\n",
	"firmware-config/systemd/hazgate.service": "[Service]\n",
}

func TestVerify(t *testing.T) {
	priv, pub := newKey(t)
	_, other := newKey(t)
	tests := []struct {
		name   string
		keys   []string
		change func(t *testing.T, dir string)
		want   string // in the error; "" for none
	}{
		{name: "good", keys: []string{other, pub}},
		{name: "no keys", keys: nil, want: "no release keys are configured"},
		{name: "another key", keys: []string{other}, want: "not one of the 1 configured release keys"},
		{name: "file changed", keys: []string{pub}, change: func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "hazgate"), "#!/bin/sh\nrm -rf /\n")
		}, want: "hazgate: SHA-256"},
		{name: "list changed", keys: []string{pub}, change: func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, SumsFile))
			write(t, filepath.Join(dir, SumsFile), string(b)+string(b[:strings.IndexByte(string(b), '\n')+1]))
		}, want: "the list was changed after it was signed"},
		{name: "file not listed", keys: []string{pub}, change: func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "firmware-config", "extra.sh"), "echo\n")
		}, want: "firmware-config/extra.sh is not in the signed SHA256SUMS"},
		{name: "unsigned", keys: []string{pub}, change: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, SigFile))
		}, want: "an unsigned release is never installed"},
		{name: "signature mangled", keys: []string{pub}, change: func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, SigFile), pub+" !!!\n")
		}, want: "not the base64 of 64 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := releaseDir(t, priv, someFiles)
			if tt.change != nil {
				tt.change(t, dir)
			}
			r, err := Verify(dir, tt.keys)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Verify: %v", err)
			case tt.want == "" && (r.Signer != pub || r.Files != 3 || r.Binary != filepath.Join(dir, "hazgate")):
				t.Fatalf("Verify = %+v", r)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Verify: %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A release signature is not a command signature, nor the reverse.
func TestSignatureDomain(t *testing.T) {
	priv, pub := newKey(t)
	sums := []byte(strings.Repeat("0", 64) + "  hazgate\n")
	sig := Sign(priv, sums)
	if _, err := VerifySig(sums, sig, []string{pub}); err != nil {
		t.Fatal(err)
	}
	_, b64, _ := strings.Cut(strings.TrimSpace(string(sig)), " ")
	// The same bytes signed without the domain do not verify.
	bare := ed25519.Sign(priv, sums)
	forged := []byte(pub + " " + base64.StdEncoding.EncodeToString(bare) + "\n")
	if _, err := VerifySig(sums, forged, []string{pub}); err == nil {
		t.Fatalf("a signature without the release domain verified (release sig %s)", b64)
	}
}

func TestParseSums(t *testing.T) {
	h := strings.Repeat("ab", 32)
	for _, tt := range []struct{ in, want string }{
		{h + "  hazgate\n" + h + " *VERSION\n", ""},
		{"", "lists no file"},
		{h + "  ../etc/passwd\n", "line 1: \"../etc/passwd\" is not a path inside the release"},
		{h + "  hazgate\nxyz  VERSION\n", "line 2: not"},
		{h + "  /abs\n", "is not a path inside the release"},
	} {
		_, err := ParseSums([]byte(tt.in))
		if (tt.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseSums(%q): %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestUnpackRefuses(t *testing.T) {
	for _, tt := range []struct {
		name  string
		hdrs  []tar.Header
		want  string
		right bool
	}{
		{name: "good", hdrs: []tar.Header{{Name: "r/", Typeflag: tar.TypeDir, Mode: 0o755}, {Name: "r/hazgate", Typeflag: tar.TypeReg, Mode: 0o755}}, right: true},
		{name: "dot-dot", hdrs: []tar.Header{{Name: "r/../../x", Typeflag: tar.TypeReg}}, want: "not a path inside the release"},
		{name: "two tops", hdrs: []tar.Header{{Name: "r/a", Typeflag: tar.TypeReg}, {Name: "s/b", Typeflag: tar.TypeReg}}, want: "outside the release's directory r"},
		{name: "symlink", hdrs: []tar.Header{{Name: "r/hazgate", Typeflag: tar.TypeSymlink, Linkname: "/bin/sh"}}, want: "not a file or a directory"},
		{name: "absolute", hdrs: []tar.Header{{Name: "/etc/x", Typeflag: tar.TypeReg}}, want: "not a path inside the release"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			tw := tar.NewWriter(zw)
			for _, h := range tt.hdrs {
				if err := tw.WriteHeader(&h); err != nil {
					t.Fatal(err)
				}
			}
			tw.Close()
			zw.Close()
			tb := filepath.Join(t.TempDir(), "r.tar.gz")
			write(t, tb, buf.String())
			out := t.TempDir()
			dir, err := Unpack(tb, out)
			if tt.right {
				if err != nil || dir != filepath.Join(out, "r") {
					t.Fatalf("Unpack = %q, %v", dir, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Unpack: %v, want %q", err, tt.want)
			}
		})
	}
}

// stand-ins for the service: a "binary" is a script that, run as the
// service (any argument but version), writes its name to the state file
// when it comes up; the restart command runs the installed one, and the
// ready command checks the state file.
func standIn(t *testing.T, dir, name string, comesUp bool) string {
	t.Helper()
	up := "exit 1"
	if comesUp {
		up = fmt.Sprintf("echo %s > %s/state", name, dir)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(fmt.Sprintf("#!/bin/sh\n[ \"$1\" = version ] && { echo 'hazgate %s'; exit 0; }\n%s\n", name, up)), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func updater(dir string) *Updater {
	return &Updater{
		Target:      filepath.Join(dir, "bin", "hazgate"),
		Restart:     fmt.Sprintf(`rm -f %s/state; "$HAZGATE" run || true`, dir),
		Ready:       fmt.Sprintf(`test -s %s/state`, dir),
		ReadyWithin: 300 * time.Millisecond,
		Poll:        20 * time.Millisecond,
	}
}

func TestInstall(t *testing.T) {
	t.Run("ready", func(t *testing.T) {
		dir := t.TempDir()
		u := updater(dir)
		os.MkdirAll(filepath.Dir(u.Target), 0o755)
		copyFile(standIn(t, dir, "v1", true), u.Target, 0o755)
		var log bytes.Buffer
		u.Log = &log
		if err := u.Install(context.Background(), standIn(t, dir, "v2", true)); err != nil {
			t.Fatalf("Install: %v\n%s", err, &log)
		}
		mustRead(t, u.Target, "hazgate v2")
		mustRead(t, u.Target+".old", "hazgate v1")
		mustRead(t, filepath.Join(dir, "state"), "v2")
		if _, err := os.Stat(u.Target + ".new"); !os.IsNotExist(err) {
			t.Fatalf("%s.new left behind: %v", u.Target, err)
		}
	})
	t.Run("never ready: rolled back", func(t *testing.T) {
		dir := t.TempDir()
		u := updater(dir)
		os.MkdirAll(filepath.Dir(u.Target), 0o755)
		copyFile(standIn(t, dir, "v1", true), u.Target, 0o755)
		var log bytes.Buffer
		u.Log = &log
		err := u.Install(context.Background(), standIn(t, dir, "v2", false))
		if !errors.Is(err, ErrRolledBack) {
			t.Fatalf("Install: %v, want ErrRolledBack\n%s", err, &log)
		}
		if strings.Contains(err.Error(), "either") {
			t.Fatalf("the old binary did not come back: %v", err)
		}
		mustRead(t, u.Target, "hazgate v1")
		mustRead(t, filepath.Join(dir, "state"), "v1") // the old one restarted and ready
		for _, want := range []string{"did not become ready (not ready within 300ms)", "the previous binary is back", "the previous binary is ready"} {
			if !strings.Contains(log.String(), want) {
				t.Fatalf("the log does not say %q:\n%s", want, &log)
			}
		}
	})
	t.Run("restart hangs: rolled back", func(t *testing.T) {
		dir := t.TempDir()
		u := updater(dir)
		os.MkdirAll(filepath.Dir(u.Target), 0o755)
		copyFile(standIn(t, dir, "v1", true), u.Target, 0o755)
		hangs := filepath.Join(dir, "v2")
		os.WriteFile(hangs, []byte("#!/bin/sh\n[ \"$1\" = version ] && exit 0\nsleep 600\n"), 0o755)
		var log bytes.Buffer
		u.Log = &log
		err := u.Install(context.Background(), hangs)
		if !errors.Is(err, ErrRolledBack) || strings.Contains(err.Error(), "either") {
			t.Fatalf("Install: %v\n%s", err, &log)
		}
		if !strings.Contains(log.String(), "the restart did not finish within 300ms") {
			t.Fatalf("the log does not say the restart hung:\n%s", &log)
		}
		mustRead(t, u.Target, "hazgate v1")
		mustRead(t, filepath.Join(dir, "state"), "v1")
	})
	t.Run("neither ready", func(t *testing.T) {
		dir := t.TempDir()
		u := updater(dir)
		os.MkdirAll(filepath.Dir(u.Target), 0o755)
		copyFile(standIn(t, dir, "v1", false), u.Target, 0o755)
		err := u.Install(context.Background(), standIn(t, dir, "v2", false))
		if !errors.Is(err, ErrRolledBack) || !strings.Contains(err.Error(), "the previous binary did not become ready either") {
			t.Fatalf("Install: %v", err)
		}
		mustRead(t, u.Target, "hazgate v1")
	})
}

func mustRead(t *testing.T, p, want string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), want) {
		t.Fatalf("%s holds %q, want %q in it", p, b, want)
	}
}
