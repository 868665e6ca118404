// Package atomicfile replaces small files so that a crash leaves either
// the old content or the new one whole, never a mix: the server's
// sequence, enrolment and fleet files, the spool's META and id and the
// agent's enrolment secret.
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
	err = writeSynced(f, data)
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = SyncDir(filepath.Dir(path))
	}
	return err
}

// Create writes path with data unless it exists (an error that is
// fs.ErrExist), so that of two processes creating it at once one wins
// whole: it writes a temporary file beside path (mode 0600), fsyncs it,
// links it to path and fsyncs the directory.
func Create(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	err = writeSynced(f, data)
	if err == nil {
		err = os.Link(f.Name(), path)
	}
	if err == nil {
		err = SyncDir(dir)
	}
	return err
}

// writeSynced writes data to f, fsyncs and closes it.
func writeSynced(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
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
