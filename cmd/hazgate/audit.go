package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"

	"github.com/hazgate/hazgate/store"
)

func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const use = "usage: hazgate audit verify -db FILE"
	if len(args) == 0 || args[0] != "verify" {
		return usageError{use}
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "the gate's SQLite `FILE` (a running gate's too)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if *db == "" || fs.NArg() > 0 {
		return usageError{use}
	}
	n, err := store.VerifyAuditFile(ctx, *db)
	var broken *store.AuditError
	switch {
	case errors.As(err, &broken):
		fmt.Fprintf(stderr, "%s: the audit chain breaks at entry %d: %s (%d entries before it verified)\n", *db, broken.Seq, broken.Msg, n)
		return exitError(1)
	case err != nil:
		return fmt.Errorf("%s: the audit chain cannot be read: %s", *db, plainStoreError(err))
	}
	fmt.Fprintf(stdout, "%s: audit chain verified: %d entries\n", *db, n)
	return nil
}

// plainStoreError is a store error without the package prefixes it
// gathered on the way up.
func plainStoreError(err error) string {
	return storePrefix.ReplaceAllString(err.Error(), "$1")
}

var storePrefix = regexp.MustCompile(`(^|: )store: ((backup|restore): )?`)
