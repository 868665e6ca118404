package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"hawk/internal/atomicfile"
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
	err := atomicfile.Write(filepath.Join(dir, secretFile), []byte(secret+"\n"), 0o600)
	if err != nil {
		return fmt.Errorf("enrolment secret: %w", err)
	}
	return nil
}
