package daemon

import (
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"

	"hawk/internal/options"
	"hawk/internal/server"
)

// Enrolment configures the binding of agent ids to the secrets issued at
// their first HELLO (docs/security.md, section 3).
type Enrolment struct {
	Enabled bool
}

func (e *Enrolment) declare(s *options.Set) {
	s.Bool(&e.Enabled, "agent-enrolment", true, "bind each agent id to the secret issued at its first HELLO (kept in <data>/hawk-enrolments); a later HELLO for the id without it is refused")
}

// enrolmentFile is the enrolment store's file in -data.
const enrolmentFile = "hawk-enrolments"

// open opens the store in dir, nil when enrolment is off.
func (e *Enrolment) open(dir string, maxAgents int) (*server.Enrolments, error) {
	if !e.Enabled {
		return nil, nil
	}
	return server.OpenEnrolments(filepath.Join(dir, enrolmentFile), maxAgents)
}

// forgetHandler serves DELETE /api/v1/agents/{id}/enrolment: the next HELLO
// for the id enrols afresh (a reinstalled host that kept its agent id).
// Without HTTP authentication it is served to loopback clients only, since
// whoever may call it may then take the agent id over.
func forgetHandler(store *server.Enrolments, httpAuth bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reply := func(code int, v map[string]any) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			json.NewEncoder(w).Encode(v) //nolint:errcheck // the client went away
		}
		if !httpAuth && !fromLoopback(r) {
			reply(http.StatusForbidden, map[string]any{"status": "error", "errorType": "forbidden",
				"error": "re-enrolment without HTTP authentication is allowed from loopback only"})
			return
		}
		if store == nil {
			reply(http.StatusNotFound, map[string]any{"status": "error", "errorType": "not_found", "error": "agent enrolment is off (-agent-enrolment=false)"})
			return
		}
		id := r.PathValue("id")
		forgot, err := store.Forget(id)
		if err != nil {
			reply(http.StatusInternalServerError, map[string]any{"status": "error", "errorType": "internal", "error": err.Error()})
			return
		}
		reply(http.StatusOK, map[string]any{"status": "success", "data": map[string]any{"agent_id": id, "was_enrolled": forgot}})
	})
}

func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}
