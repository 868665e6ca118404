package server

import (
	"time"
)

// Outage is a period in which an agent was silent, and why. The server
// records one when the agent comes back: Start is when it was last heard
// from, End when it reconnected, Cause one of the Cause* constants.
type Outage struct {
	Start, End time.Time
	Cause      string
}

// Causes of an outage, the cause label of hawk_agent_outages_total.
const (
	// CauseNetwork: the agent's spool delivered samples collected inside
	// the silent period, so the host and the agent were running; the
	// network (or the server) was not reachable.
	CauseNetwork = "network"
	// CauseReboot: the host's boot time in the agent's new HELLO differs
	// from the one before.
	CauseReboot = "reboot"
	// CauseAgentStopped: neither, and the agent closed its connection
	// itself (its process exited or was killed: the kernel sent FIN), and
	// nothing was collected while it was away.
	CauseAgentStopped = "agent-stopped"
	// CauseUnknown: none of the above is known, e.g. the agent froze
	// (SIGSTOP), or the host hung and came back without a reboot.
	CauseUnknown = "unknown"
)

const nCauses = 4

var causeNames = [nCauses]string{CauseNetwork, CauseReboot, CauseAgentStopped, CauseUnknown}

func causeIndex(c string) int {
	for i, n := range causeNames {
		if n == c {
			return i
		}
	}
	return 3
}

// pendingOutage is an outage whose agent came back and whose cause waits
// for the agent's spool: samples from inside the silent period prove the
// host alive; a sample from after it (spools send in order) proves that
// there are none.
type pendingOutage struct {
	start, end time.Time
	peerClosed bool // the agent's last connection was closed by the agent
	reboot     bool // the boot time changed
	alive      bool // a sample from inside the silent period arrived
}

// OutageJSON is an outage as the API serves it.
type OutageJSON struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Duration float64   `json:"duration_seconds"`
	Cause    string    `json:"cause"`
}

func (o Outage) json() OutageJSON {
	return OutageJSON{Start: o.Start.UTC(), End: o.End.UTC(), Duration: o.End.Sub(o.Start).Seconds(), Cause: o.Cause}
}

// finishOutageLocked classifies a's pending outage with what is known now
// and records it.
func (f *Fleet) finishOutageLocked(a *Agent, now time.Time) {
	p := a.pending
	if p == nil {
		return
	}
	a.pending = nil
	a.classify.Store(false)
	cause := CauseUnknown
	switch {
	case p.reboot:
		cause = CauseReboot
	case p.alive:
		cause = CauseNetwork
	case p.peerClosed:
		cause = CauseAgentStopped
	}
	o := Outage{Start: p.start, End: p.end, Cause: cause}
	if len(a.outages) >= f.maxOutages {
		copy(a.outages, a.outages[1:])
		a.outages = a.outages[:len(a.outages)-1]
	}
	a.outages = append(a.outages, o)
	a.outageCounts[causeIndex(cause)]++
	f.dirty = true
	f.poke()
}

// observeSamples looks at the times (Unix ms, agent clock) of samples a
// committed while its outage waits for a cause.
func (f *Fleet) observeSamples(a *Agent, ts []pendingSample) {
	if !a.classify.Load() || len(ts) == 0 {
		return
	}
	off := a.offset.Load()
	f.mu.Lock()
	defer f.mu.Unlock()
	p := a.pending
	if p == nil {
		return
	}
	lo, hi := p.start.Add(f.margin).UnixNano(), p.end.Add(-f.margin).UnixNano()
	after := false
	for _, s := range ts {
		t := s.t*1e6 - off // server clock
		if t > lo && t < hi {
			p.alive = true
			break
		}
		if t >= p.end.UnixNano() {
			after = true
		}
	}
	if p.alive || after {
		f.finishOutageLocked(a, f.now())
	}
}

// expireOutagesLocked classifies the pending outages of agents that sent
// nothing telling within wait of coming back.
func (f *Fleet) expireOutagesLocked(a *Agent, now time.Time, wait time.Duration) {
	if a.pending != nil && now.Sub(a.pending.end) >= wait {
		f.finishOutageLocked(a, now)
	}
}

// LastOutage returns the newest recorded outage of an agent.
func (f *Fleet) LastOutage(agentID string) (Outage, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.agents[agentID]
	if a == nil || len(a.outages) == 0 {
		return Outage{}, false
	}
	return a.outages[len(a.outages)-1], true
}

// Outages returns an agent's recorded outages, oldest first, and whether
// the agent is known.
func (f *Fleet) Outages(agentID string) ([]OutageJSON, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.agents[agentID]
	if a == nil {
		return nil, false
	}
	out := make([]OutageJSON, len(a.outages))
	for i, o := range a.outages {
		out[i] = o.json()
	}
	return out, true
}
