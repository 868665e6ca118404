package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
)

// AgentsQuery selects a page of /api/v1/agents.
type AgentsQuery struct {
	Match  string // substring of id, hostname, instance or job
	Down   bool   // only agents judged offline
	Offset int
	Limit  int
}

// Fleet reports and manages the agents the server knows.
type Fleet interface {
	// Agents appends to dst the rows q selects, encoded as a JSON array,
	// and returns them and how many rows match in all.
	Agents(dst []byte, q AgentsQuery) (rows []byte, total int, err error)
	// Forget removes an agent; ErrUnknownAgent or ErrAgentConnected.
	Forget(id string) error
	// Outages returns an agent's outages (serialized as JSON), false if
	// the agent is unknown.
	Outages(id string) (any, bool)
}

// Errors a Fleet's Forget returns, answered 404 and 409.
var (
	ErrUnknownAgent   = errors.New("no such agent")
	ErrAgentConnected = errors.New("the agent is connected; stop it before forgetting it")
)

var (
	errorNotFound = errorType{"not_found", http.StatusNotFound}
	errorConflict = errorType{"conflict", http.StatusConflict}
)

// agentsBufs keeps the buffers pages of /api/v1/agents were encoded in, for
// the next (a page of 500 rows is 0.2 to 2 MB); one larger than
// maxPooledAgentsBuf is left to the garbage collector.
var agentsBufs = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledAgentsBuf = 4 << 20

// DefaultAgentsLimit is the page size of /api/v1/agents without ?limit=.
const DefaultAgentsLimit = 500

// agents serves /api/v1/agents?limit=&offset=&match=&down=: one page of
// the fleet, sorted by hostname; the header X-Total-Count says how many
// rows match in all. limit is at most 10 × the default page.
func (a *API) agents(r *http.Request) result {
	if a.opts.Fleet == nil {
		return result{data: []any{}}
	}
	q := AgentsQuery{Match: r.FormValue("match"), Limit: a.opts.AgentsLimit}
	for _, p := range []struct {
		name string
		dst  *int
		max  int
	}{{"limit", &q.Limit, 10 * a.opts.AgentsLimit}, {"offset", &q.Offset, math.MaxInt}} {
		if v := r.FormValue(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > p.max {
				return invalidParam(fmt.Errorf("want an integer from 0 to %d", p.max), p.name)
			}
			*p.dst = n
		}
	}
	if q.Limit == 0 {
		q.Limit = a.opts.AgentsLimit
	}
	if v := r.FormValue("down"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return invalidParam(err, "down")
		}
		q.Down = b
	}
	buf := agentsBufs.Get().(*[]byte)
	rows, total, err := a.opts.Fleet.Agents((*buf)[:0], q)
	release := func() {
		if cap(rows) <= maxPooledAgentsBuf {
			*buf = rows[:0]
			agentsBufs.Put(buf)
		}
	}
	if err != nil {
		release()
		return result{err: &apiError{errorInternal, err}}
	}
	if len(rows) == 0 {
		rows = []byte("[]")
	}
	return result{raw: rows, total: &total, finalizer: release}
}

// forget serves DELETE /api/v1/agents/{id} and POST /api/v1/agents/{id}/forget.
func (a *API) forget(r *http.Request) result {
	if a.opts.Fleet == nil {
		return result{err: &apiError{errorNotFound, ErrUnknownAgent}}
	}
	id := r.PathValue("id")
	switch err := a.opts.Fleet.Forget(id); {
	case errors.Is(err, ErrUnknownAgent):
		return result{err: &apiError{errorNotFound, fmt.Errorf("agent %q: %w", id, err)}}
	case errors.Is(err, ErrAgentConnected):
		return result{err: &apiError{errorConflict, fmt.Errorf("agent %q: %w", id, err)}}
	case err != nil:
		return result{err: &apiError{errorInternal, err}}
	}
	return result{data: map[string]string{"forgotten": id}}
}

// outages serves /api/v1/agents/{id}/outages.
func (a *API) outages(r *http.Request) result {
	id := r.PathValue("id")
	if a.opts.Fleet != nil {
		if o, ok := a.opts.Fleet.Outages(id); ok {
			return result{data: o}
		}
	}
	return result{err: &apiError{errorNotFound, fmt.Errorf("agent %q: %w", id, ErrUnknownAgent)}}
}
