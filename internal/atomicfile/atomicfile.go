// Package atomicfile replaces small files so that a crash leaves either
// the old content or the new one whole, never a mix: the server's
// sequence, enrolment and fleet files, the spool's META and the agent's
// enrolment secret.
package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
)

// Write replaces path with data: it writes path+".tmp" with perm, fsyncs
// it, renames it over path and fsyncs the directory.
func Write(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = SyncDir(filepath.Dir(path))
	}
	return err
}

// SyncDir fsyncs a directory so that entries created or renamed in it
// survive a machine crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
