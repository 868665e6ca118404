// Package alerting evaluates Prometheus recording and alerting rules over
// the embedded TSDB and sends the alerts to Alertmanager. It assembles the
// Prometheus project's own pieces — rules.Manager for evaluation (and for
// restoring `for` state from ALERTS_FOR_STATE after a restart), the PromQL
// engine the query API already has, and notifier.Manager for delivery over
// Alertmanager's v2 API — and adds what hawk knows that a pull system does
// not: a resolved alert about an agent is annotated with the cause of its
// last outage (OutageExplainer).
//
// Ownership: New starts nothing; Run starts the rule groups and the
// notifier's goroutines; Stop stops them all and returns once they have
// exited. Reload re-reads the rule files in place and keeps the old rules
// when a file does not parse.
package alerting
