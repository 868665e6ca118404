package daemon

import (
	"hawk/internal/options"
	"hawk/internal/server"
)

// Limits holds the resource bounds of issue 17: what one peer or one
// request may make the server hold or do (docs/security.md, section 4).
// Their defaults protect a collector of 2 cores and 4 GiB.
type Limits struct {
	MaxSeqGap   int
	HonorLabels bool
}

func (l *Limits) declare(s *options.Set) {
	s.Bool(&l.HonorLabels, "honor-labels", false, "keep the job and instance labels agents put on their series; false sets them from the agent's HELLO (agent_id is always set from the session)")
	s.Int(&l.MaxSeqGap, "max-sequence-gap", 1<<24, "a new batch's sequence may be at most this far ahead of the agent's stored one; further is refused (ERROR 4)")
}

// apply sets the agent-side limits of a server.Config.
func (l *Limits) apply(c *server.Config) {
	c.MaxSeqGap = l.MaxSeqGap
	c.StampIdentity, c.HonorLabels = true, l.HonorLabels
}
