//go:build !unix

package logs

func toJournal(any, string) bool { return false }
