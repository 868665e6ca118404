package collect

// ValueType is a metric's type as the Prometheus exposition format names it.
type ValueType uint8

const (
	Untyped ValueType = iota
	Counter
	Gauge
)

func (t ValueType) String() string {
	switch t {
	case Counter:
		return "counter"
	case Gauge:
		return "gauge"
	}
	return "untyped"
}

// Label is one label pair. __name__ is never among a Metric's Labels.
type Label struct {
	Name, Value string
}

// Metric is one sample of one series, as a collector produces it.
type Metric struct {
	Name   string    // node_exporter's name, e.g. node_cpu_seconds_total
	Help   string    // one line of help text
	Type   ValueType // counter, gauge or untyped
	Labels []Label   // label pairs, without job and instance
	Value  float64
}
