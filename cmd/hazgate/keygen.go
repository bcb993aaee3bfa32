package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/hazgate/hazgate/uplink"
)

// cmdKeygen writes an Ed25519 key pair for signing remote commands:
// PREFIX.key (PKCS #8 PEM, mode 0600) stays with the safety office;
// PREFIX.pub holds the public key as mqtt.trusted_keys and mqtt.registry_keys take it.
func cmdKeygen(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "write the key pair to `PREFIX`.key and PREFIX.pub")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *out == "" || fs.NArg() > 0 {
		return usageError{"usage: hazgate keygen -out PREFIX"}
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	pemKey, err := uplink.MarshalPrivateKey(priv)
	if err != nil {
		return err
	}
	// Never overwrite a key: a lost private key is a re-keying of every
	// gate, and an overwritten one is a lost one.
	keyFile, pubFile := *out+".key", *out+".pub"
	for _, f := range []string{keyFile, pubFile} {
		if _, err := os.Stat(f); err == nil {
			return fmt.Errorf("%s exists: not overwriting a key", f)
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := writeNew(keyFile, pemKey, 0o600); err != nil {
		return err
	}
	line := uplink.PublicKeyString(pub)
	if err := writeNew(pubFile, []byte(line+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "private key: %s (keep it with the safety office)\npublic key:  %s\n\nadd to each gate's configuration, for a key that signs commands (hazgate cmd sign):\n  mqtt:\n    trusted_keys: [\"%s\"]\nor for a key that signs registry data (hazgate registry sign):\n  mqtt:\n    registry_keys: [\"%s\"]\n", keyFile, pubFile, line, line)
	return nil
}

// writeNew creates path (it must not exist) with data, synced to disk.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
