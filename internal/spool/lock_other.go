//go:build !unix

package spool

import (
	"fmt"
	"os"
)

// lockDir only creates the lock file on systems without flock(2): one
// process per spool directory is then the operator's responsibility.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("spool: lock: %w", err)
	}
	return f, nil
}
