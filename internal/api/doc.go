// Package api serves hawk's query API, a subset of the Prometheus HTTP API
// v1 that Grafana's Prometheus data source and promtool use unchanged:
//
//	/api/v1/query, /api/v1/query_range        PromQL, instant and range
//	/api/v1/series, /api/v1/labels,
//	/api/v1/label/<name>/values                series and label lookups
//	/api/v1/metadata                           metric metadata seen by the sink
//	/api/v1/status/buildinfo, runtimeinfo,
//	/api/v1/status/config                      what Grafana probes
//	/api/v1/agents?limit=&offset=&match=      hawk's own: the fleet, paged (X-Total-Count)
//	/api/v1/agents/{id}/outages                hawk's own: an agent's outages
//	DELETE /api/v1/agents/{id}                 forget an agent (also POST /api/v1/agents/{id}/forget)
//
// Every endpoint answers GET and form POST. Responses have Prometheus'
// envelope, {"status":"success","data":...,"warnings":[...],"infos":[...]}
// or {"status":"error","errorType":"bad_data","error":"..."}, and its status
// codes: 400 bad_data, 422 execution, 499 canceled, 503 timeout, 500
// internal. Parameters are parsed as Prometheus does: times as RFC 3339 or
// Unix seconds with a fraction, durations as Prometheus durations or float
// seconds, match[] as series selectors, limit as a non-negative integer.
//
// The handlers are written here rather than taken from Prometheus'
// web/api/v1, which pulls in scraping, rules and notifications.
package api
