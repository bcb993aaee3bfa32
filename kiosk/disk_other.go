//go:build !(linux || darwin)

package kiosk

import "errors"

// statfs is not implemented here: the gate runs Linux.
func statfs(path string) (free, total uint64, err error) {
	return 0, 0, errors.New("kiosk: disk space is not reported on this system")
}
