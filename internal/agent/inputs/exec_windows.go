package inputs

import (
	"context"
	"errors"
	"os"
	"os/exec"
)

// runAs is the identity a command runs under; Windows commands run as the
// agent's own account (use the service's account to choose another).
type runAs = *struct{}

func lookupRunAs(name string) (runAs, error) {
	return nil, errors.New("user: not supported on windows; run the agent service as that account")
}

// shellCommand runs line with the command interpreter. Cancelling kills
// the interpreter; its children are left to the job the service runs in.
func shellCommand(ctx context.Context, line string, _ runAs) *exec.Cmd {
	shell := os.Getenv("ComSpec")
	if shell == "" {
		shell = "cmd.exe"
	}
	return exec.CommandContext(ctx, shell, "/C", line)
}
