package spool

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"hawk/internal/atomicfile"
)

// LoadOrCreateID returns the agent id stored in dir/id, creating it on first
// use: 16 random bytes, hex encoded. Creation is crash-safe (temp file,
// fsync, link into place, fsync dir): a crash leaves either no id file or a
// whole one, and link(2), unlike rename, never replaces an id that a
// concurrent caller created first. A file that holds anything but an id is
// ErrBadID; it is not replaced, since a new id would make the server store
// already-sent records again.
func LoadOrCreateID(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("spool: id: %w", err)
	}
	path := filepath.Join(dir, idName)
	id, err := readID(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return id, err
	}
	var raw [16]byte
	_, _ = rand.Read(raw[:]) // never fails, see crypto/rand
	id = hex.EncodeToString(raw[:])
	if err := atomicfile.Create(path, []byte(id+"\n")); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("spool: id: %w", err)
	}
	return readID(path) // ours, or a concurrent winner's
}

func readID(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	id := strings.TrimSuffix(string(b), "\n")
	if _, herr := hex.DecodeString(id); herr != nil || len(id) != 32 {
		return "", fmt.Errorf("%w: %q", ErrBadID, snippet(b))
	}
	return id, nil
}
