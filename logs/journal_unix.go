//go:build unix

package logs

import (
	"fmt"
	"os"
	"syscall"
)

// toJournal reports whether w is the stream journald reads: JOURNAL_STREAM
// ("<device>:<inode>", systemd.exec(5)) names w's file. A child whose
// stderr was redirected elsewhere inherits the variable but not the file.
func toJournal(w any, stream string) bool {
	if stream == "" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && fmt.Sprintf("%d:%d", st.Dev, st.Ino) == stream
}
