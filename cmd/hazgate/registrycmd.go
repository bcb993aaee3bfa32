package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hazgate/hazgate/registry"
	"github.com/hazgate/hazgate/store"
)

// importMemoryLimit is the most the soft memory limit of `hazgate registry
// import` is set to (twice the default registry_max_bytes); below it, the
// limit is what the import holds plus memoryHeadroom (membudget.go).
const importMemoryLimit = 128 << 20

func cmdRegistry(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "sign" {
		return cmdRegistrySign(args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "import" {
		return usageError{"usage: hazgate registry import FILE -db FILE [-force]\n       " + strings.TrimPrefix(registrySignUse, "usage: ")}
	}
	fs := flag.NewFlagSet("registry import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "the SQLite `FILE` to load into (created when missing)")
	force := fs.Bool("force", false, fmt.Sprintf("allow a version more than %d above the one the registry holds", registry.MaxVersionJump))
	// Accept the file before or after the flags.
	rest := args[1:]
	var file string
	if len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		file, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return usageError{err.Error()}
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if file == "" || *db == "" {
		return usageError{"usage: hazgate registry import FILE -db FILE [-force]"}
	}
	// The process does nothing but this import: the collector works
	// harder rather than let the heap grow to twice what is live
	// (docs/benchmarks.md, "Footprint"). GOMEMLIMIT, when set, wins.
	holdMemory(memoryHeadroom, importMemoryLimit)
	st, err := store.Open(ctx, *db)
	if err != nil {
		return fmt.Errorf("the database %s cannot be opened or created (does its directory exist, and may this user write there?): %s",
			*db, strings.TrimPrefix(err.Error(), "store: "))
	}
	defer st.Close()
	var opts []store.ImportOption
	if *force {
		opts = append(opts, store.ForceVersionJump)
	}
	if err := st.ImportFile(ctx, file, time.Now(), opts...); err != nil {
		fmt.Fprintf(stderr, "%s: not imported; the registry is unchanged:\n%s\n", file, importProblems(err))
		return exitError(1)
	}
	m, err := st.RegistryMeta(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: imported into %s (registry version %d, synced %s)\n", file, *db, m.Version, m.SyncedAt.Format(time.RFC3339))
	return nil
}

// importProblems is an import error in plain words: each problem on its own
// line, without the packages' prefixes.
func importProblems(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, store.ErrInvalid.Error()+": "); i >= 0 {
		s = s[i+len(store.ErrInvalid.Error())+2:]
	} else {
		s = strings.TrimPrefix(s, "store: import: ")
	}
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
