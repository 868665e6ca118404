// Package inputs gathers what the agent sends besides its node collectors:
// local exporters it scrapes (-scrape), commands it runs (-exec) and
// process groups it watches (-process-config). Each input runs on its own
// schedule in a goroutine the Runner owns; its results wait in the Runner
// until the agent's collect loop takes them (Drain) into the next batch, so
// they travel through the spool like every other sample.
//
// Limits bound what an input can cost: a scrape reads at most
// MaxBodyBytes, and a scrape or command yielding more than
// MaxSeriesPerInput series fails whole (up 0), as Prometheus' sample_limit
// does; the samples waiting for the collect loop are capped at MaxSamples
// in total. Every refusal is counted in hawk_input_* series.
package inputs
