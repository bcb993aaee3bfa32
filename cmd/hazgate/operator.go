package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/hazgate/hazgate/kiosk"
	"github.com/hazgate/hazgate/store"
)

// operatorInput is where `hazgate operator add` reads the password: the
// terminal (without echo, asked twice) or a pipe (its first line).
var operatorInput = os.Stdin

const operatorUsage = `usage: hazgate operator add -db FILE -name NAME -role operator|supervisor [-replace]   (the password is read from the terminal or stdin)
       hazgate operator disable|enable -db FILE -name NAME
       hazgate operator unlock -db FILE -name NAME [-reason TEXT]   (clears its sign-in lockouts, even while the kiosk runs)
       hazgate operator list -db FILE`

// cmdOperator manages the kiosk's accounts. There is no default account and
// no password flag: a password on the command line would end up in the
// shell's history and the process list.
func cmdOperator(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{operatorUsage}
	}
	switch args[0] {
	case "add":
	case "disable", "enable":
		return cmdOperatorDisable(ctx, args[0] == "disable", args[1:], stdout, stderr)
	case "list":
		return cmdOperatorList(ctx, args[1:], stdout, stderr)
	case "unlock":
		return cmdOperatorUnlock(ctx, args[1:], stdout, stderr)
	default:
		return usageError{operatorUsage}
	}
	fs := flag.NewFlagSet("operator add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "the SQLite `FILE` (created when missing)")
	name := fs.String("name", "", "the account `NAME` (letters, digits, '.', '-', '_')")
	role := fs.String("role", "", "operator or supervisor (a supervisor also decides rejected vehicles and lifts a lock-down)")
	replace := fs.Bool("replace", false, "replace an existing account's role and password")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q (the password is not a flag: it is read from the terminal or stdin)", fs.Arg(0))}
	}
	if *db == "" || *name == "" || *role == "" {
		return usageError{operatorUsage}
	}
	if err := kiosk.CheckName(*name); err != nil {
		return usageError{err.Error()}
	}
	if err := kiosk.CheckRole(*role); err != nil {
		return usageError{err.Error()}
	}
	pw, err := readPassword(operatorInput, stderr)
	if err != nil {
		return err
	}
	op, err := kiosk.NewOperator(*name, *role, pw)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.AddOperator(ctx, op, *replace, time.Now()); err != nil {
		if errors.Is(err, store.ErrExists) {
			return fmt.Errorf("operator %q already exists: use -replace to give it a new password", *name)
		}
		return err
	}
	fmt.Fprintf(stdout, "%s: %s %q added (the audit log records it)\n", *db, *role, *name)
	return nil
}

// cmdOperatorDisable disables an account (no more sign-ins; the kiosk ends
// its sessions at their next request) or enables it again. The audit log
// records it, by the system user who ran the command.
func cmdOperatorDisable(ctx context.Context, disable bool, args []string, stdout, stderr io.Writer) error {
	verb := "enable"
	if disable {
		verb = "disable"
	}
	return onOperator(ctx, verb, args, stderr, nil, func(st *store.Store, db, name string) error {
		if err := st.SetOperatorDisabled(ctx, name, disable, cliActor(), time.Now()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: operator %q %sd (the audit log records it)\n", db, name, verb)
		return nil
	})
}

// cmdOperatorUnlock clears an account's sign-in lockouts from every address:
// the store counts its unlocks up, and the kiosk, running or not, forgets
// the failures counted before at the account's next sign-in. The audit log
// records it, by the system user who ran the command, with the reason.
func cmdOperatorUnlock(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var reason *string
	flags := func(fs *flag.FlagSet) { reason = fs.String("reason", "", "why, for the audit log") }
	return onOperator(ctx, "unlock", args, stderr, flags, func(st *store.Store, db, name string) error {
		if err := st.UnlockOperator(ctx, name, cliActor(), strings.TrimSpace(*reason), time.Now()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: operator %q unlocked: the kiosk forgets its failed sign-ins from every address (the audit log records it)\n", db, name)
		return nil
	})
}

// onOperator is an operator command on one account: it parses -db and
// -name (and what flags adds), opens the existing database and runs do; an
// account the store does not know is said with the command that lists them.
func onOperator(ctx context.Context, verb string, args []string, stderr io.Writer, flags func(*flag.FlagSet), do func(st *store.Store, db, name string) error) error {
	fs := flag.NewFlagSet("operator "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "the SQLite `FILE`")
	name := fs.String("name", "", "the account `NAME`")
	if flags != nil {
		flags(fs)
	}
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *db == "" || *name == "" || fs.NArg() > 0 {
		return usageError{operatorUsage}
	}
	st, err := openExisting(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := do(st, *db, *name); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%s: no operator %q (hazgate operator list shows them)", *db, *name)
		}
		return err
	}
	return nil
}

// cmdOperatorList prints the accounts: name, role, and whether disabled.
func cmdOperatorList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("operator list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", "", "the SQLite `FILE`")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *db == "" || fs.NArg() > 0 {
		return usageError{operatorUsage}
	}
	st, err := openExisting(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	ops, err := st.Operators(ctx)
	if err != nil {
		return err
	}
	for _, op := range ops {
		state := "enabled"
		if op.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(stdout, "%s\t%s\t%s\tsince %s\n", op.Name, op.Role, state, op.UpdatedAt.Format(time.RFC3339))
	}
	if len(ops) == 0 {
		fmt.Fprintf(stdout, "%s: no operators (hazgate operator add makes one)\n", *db)
	}
	return nil
}

// openExisting opens a store that must already exist: a typo in -db must
// not create an empty database and report an unknown operator.
func openExisting(ctx context.Context, path string) (*store.Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	return store.Open(ctx, path)
}

// cliActor is the audit actor of a command run at the controller.
func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}

// readPassword reads a password: from a terminal without echo, twice; from
// anything else, its first line.
func readPassword(f *os.File, prompt io.Writer) (string, error) {
	if term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(prompt, "password (at least %d characters): ", kiosk.MinPasswordLen)
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(prompt, "again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(a) != string(b) {
			return "", errors.New("the passwords differ")
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password on stdin (give it on the first line, or run in a terminal)")
	}
	return pw, nil
}
