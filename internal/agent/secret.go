package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// secretFile holds, in the spool directory, the secret a server issued to
// this agent id at enrolment (docs/security.md, section 3). Like an SSH
// host key it proves that later connections come from the same agent; it
// is sent in every HELLO, and it is readable by the agent's user only.
// Deleting it (or the spool) means the server must re-enrol the agent.
const secretFile = "enrolment-secret"

// loadSecret returns the stored secret, "" when there is none yet.
func loadSecret(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, secretFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("enrolment secret: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// saveSecret replaces the stored secret: written to a temporary file,
// fsynced and renamed, so that a crash leaves the old secret or the new.
func saveSecret(dir, secret string) error {
	path := filepath.Join(dir, secretFile)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("enrolment secret: %w", err)
	}
	_, err = f.WriteString(secret + "\n")
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
		var d *os.File
		if d, err = os.Open(dir); err == nil {
			err = errors.Join(d.Sync(), d.Close())
		}
	}
	if err != nil {
		return fmt.Errorf("enrolment secret: %w", err)
	}
	return nil
}
