// Package collect reads host metrics and names them as prometheus
// node_exporter does, so that dashboards written for node_exporter work with
// hawk unchanged.
package collect
