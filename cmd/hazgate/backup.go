package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/hazgate/hazgate/store"
)

func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const use = "usage: hazgate backup -db FILE -to FILE"
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "the gate's SQLite `FILE` (a running gate's too)")
	to := fs.String("to", "", "the new `FILE` to write the copy to; never overwritten")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *db == "" || *to == "" || fs.NArg() > 0 {
		return usageError{use}
	}
	r, err := store.Backup(ctx, *db, *to)
	if err != nil {
		return fmt.Errorf("no backup made: %s", plainStoreError(err))
	}
	fmt.Fprintf(stdout, "%s: backup of %s (%s) verified: %s\n", *to, *db, r.Gate, reportCounts(r))
	return nil
}

func cmdRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const use = "usage: hazgate restore -from FILE -db FILE [-force]"
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the backup `FILE` (from hazgate backup)")
	db := fs.String("db", "", "the gate's SQLite `FILE` to replace (created when missing)")
	force := fs.Bool("force", false, "restore a backup of another gate (a database a running gate has open is never replaced)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *from == "" || *db == "" || fs.NArg() > 0 {
		return usageError{use}
	}
	r, err := store.Restore(ctx, *from, *db, store.RestoreOptions{Force: *force})
	if err != nil {
		return fmt.Errorf("not restored, %s is unchanged: %s", *db, plainStoreError(err))
	}
	fmt.Fprintf(stdout, "%s: restored from %s (%s): %s\n", *db, *from, r.Gate, reportCounts(r))
	return nil
}

// reportCounts says what a verified file holds, in words.
func reportCounts(r store.FileReport) string {
	var parts []string
	for _, t := range []string{"inspections", "passages", "decisions", "alarms"} {
		parts = append(parts, fmt.Sprintf("%d %s", r.Rows[t], t))
	}
	return fmt.Sprintf("integrity ok, %d audit entries in an unbroken chain, %s", r.AuditEntries, strings.Join(parts, ", "))
}
