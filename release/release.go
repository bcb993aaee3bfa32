// Package release is hazgate's signed release tarballs: the SHA-256 list
// (SHA256SUMS, as sha256sum writes it) signed with an Ed25519 key of the
// same kind as the signed commands (`hazgate keygen`), its verification
// against the configured release keys, and the update of an installed
// binary with a rollback when the new one does not become ready
// (update.go).
//
// It imports only the uplink's key encoding; cmd/hazgate wires it
// (`hazgate release sign|verify`, `hazgate update`).
package release

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hazgate/hazgate/uplink"
)

// The files of a release directory besides those the list names.
const (
	SumsFile = "SHA256SUMS"
	SigFile  = "SHA256SUMS.sig"
	// Binary is the hazgate binary's name in a release.
	Binary = "hazgate"
)

// SignDomain is prefixed to the list before it is signed, so that a
// release signature can never be taken for a command's, nor the reverse.
const SignDomain = "hazgate-release-v1\n"

// maxFile bounds one file of a tarball (the binary is ~20 MB).
const maxFile = 256 << 20

// Sign returns the signature file for the list sums: one line, the
// signer's public key as `hazgate keygen` writes it and the base64
// signature.
func Sign(priv ed25519.PrivateKey, sums []byte) []byte {
	sig := ed25519.Sign(priv, append([]byte(SignDomain), sums...))
	return []byte(uplink.PublicKeyString(priv.Public().(ed25519.PublicKey)) + " " + base64.StdEncoding.EncodeToString(sig) + "\n")
}

// VerifySig checks that sig is a signature of sums by one of keys (each
// "ed25519:<base64>") and returns that key.
func VerifySig(sums, sig []byte, keys []string) (string, error) {
	if len(keys) == 0 {
		return "", errors.New("release: no release keys are configured (update.release_keys): nothing can be trusted")
	}
	keyText, sigText, ok := strings.Cut(strings.TrimSpace(string(sig)), " ")
	if !ok {
		return "", fmt.Errorf("release: %s is not \"ed25519:<key> <signature>\"", SigFile)
	}
	raw, err := base64.StdEncoding.DecodeString(sigText)
	if err != nil || len(raw) != ed25519.SignatureSize {
		return "", fmt.Errorf("release: %s: the signature is not the base64 of 64 bytes", SigFile)
	}
	msg := append([]byte(SignDomain), sums...)
	for i, k := range keys {
		pub, err := uplink.ParsePublicKey(k)
		if err != nil {
			return "", fmt.Errorf("release: update.release_keys[%d]: %w", i, err)
		}
		if ed25519.Verify(pub, msg, raw) {
			return k, nil
		}
	}
	if slices.Contains(keys, keyText) {
		return "", fmt.Errorf("release: the signature by %s does not match %s: the list was changed after it was signed", keyText, SumsFile)
	}
	return "", fmt.Errorf("release: signed by %s, which is not one of the %d configured release keys", keyText, len(keys))
}

// Sum is one line of the list.
type Sum struct {
	Hash string // lower-case hex
	Path string // relative, slash-separated
}

// ParseSums reads a list as sha256sum writes it ("<hex>  <path>" or
// "<hex> *<path>"), each path relative and inside the release.
func ParseSums(data []byte) ([]Sum, error) {
	var sums []Sum
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" {
			continue
		}
		h, p, ok := strings.Cut(line, " ")
		p = strings.TrimPrefix(strings.TrimPrefix(p, " "), "*")
		b, err := hex.DecodeString(h)
		if !ok || err != nil || len(b) != sha256.Size || p == "" {
			return nil, fmt.Errorf("release: %s line %d: not \"<sha256 hex>  <path>\"", SumsFile, n)
		}
		if !fs.ValidPath(p) {
			return nil, fmt.Errorf("release: %s line %d: %q is not a path inside the release", SumsFile, n, p)
		}
		sums = append(sums, Sum{Hash: strings.ToLower(h), Path: p})
	}
	if len(sums) == 0 {
		return nil, fmt.Errorf("release: %s lists no file", SumsFile)
	}
	return sums, nil
}

// Release is a verified, unpacked release.
type Release struct {
	Dir    string // the unpacked directory
	Binary string // Dir/hazgate
	Signer string // the release key that signed it
	Files  int    // how many files the list names
}

// Verify checks the release directory dir: the signature of its list by
// one of keys, then every listed file's SHA-256, every regular file in dir
// listed, and the binary among them.
func Verify(dir string, keys []string) (*Release, error) {
	sums, err := os.ReadFile(filepath.Join(dir, SumsFile))
	if err != nil {
		return nil, fmt.Errorf("release: no %s: %w", SumsFile, err)
	}
	sig, err := os.ReadFile(filepath.Join(dir, SigFile))
	if err != nil {
		return nil, fmt.Errorf("release: no %s (an unsigned release is never installed): %w", SigFile, err)
	}
	signer, err := VerifySig(sums, sig, keys)
	if err != nil {
		return nil, err
	}
	list, err := ParseSums(sums)
	if err != nil {
		return nil, err
	}
	listed := map[string]bool{}
	for _, s := range list {
		listed[s.Path] = true
		got, err := fileSum(filepath.Join(dir, filepath.FromSlash(s.Path)))
		if err != nil {
			return nil, fmt.Errorf("release: %s: %w", s.Path, err)
		}
		if got != s.Hash {
			return nil, fmt.Errorf("release: %s: SHA-256 %s, the signed list says %s: the file was changed", s.Path, got, s.Hash)
		}
	}
	if !listed[Binary] {
		return nil, fmt.Errorf("release: %s does not list the %s binary", SumsFile, Binary)
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == SumsFile || rel == SigFile || listed[rel] {
			return nil
		}
		return fmt.Errorf("release: %s is not in the signed %s", rel, SumsFile)
	})
	if err != nil {
		return nil, err
	}
	return &Release{Dir: dir, Binary: filepath.Join(dir, Binary), Signer: signer, Files: len(list)}, nil
}

func fileSum(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Unpack extracts the gzipped tarball into dir and returns the release's
// directory: the tarball's one top-level directory. Only directories and
// regular files are taken, each inside that directory; anything else (a
// link, a device, a path with ..) refuses the tarball.
func Unpack(tarball, dir string) (string, error) {
	f, err := os.Open(tarball)
	if err != nil {
		return "", fmt.Errorf("release: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("release: %s is not a gzipped tarball: %w", tarball, err)
	}
	tr := tar.NewReader(zr)
	top := ""
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("release: %s: %w", tarball, err)
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if !fs.ValidPath(name) || name == "." {
			return "", fmt.Errorf("release: %s: %q is not a path inside the release", tarball, h.Name)
		}
		first, _, _ := strings.Cut(name, "/")
		if top == "" {
			top = first
		} else if first != top {
			return "", fmt.Errorf("release: %s: %q is outside the release's directory %s", tarball, h.Name, top)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return "", fmt.Errorf("release: %w", err)
			}
		case tar.TypeReg:
			if h.Size > maxFile {
				return "", fmt.Errorf("release: %s: %s is %d bytes, more than a release holds", tarball, h.Name, h.Size)
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return "", fmt.Errorf("release: %w", err)
			}
			if err := writeFile(target, tr, os.FileMode(h.Mode)&0o755); err != nil {
				return "", fmt.Errorf("release: %s: %w", h.Name, err)
			}
		default:
			return "", fmt.Errorf("release: %s: %s is not a file or a directory", tarball, h.Name)
		}
	}
	if top == "" {
		return "", fmt.Errorf("release: %s is empty", tarball)
	}
	return filepath.Join(dir, top), nil
}

func writeFile(p string, r io.Reader, mode os.FileMode) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode|0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, io.LimitReader(r, maxFile)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
