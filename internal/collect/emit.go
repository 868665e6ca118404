package collect

// emitter hands samples to the Set's emit function. It owns one label
// buffer that every sample reuses, which is why Metric.Labels is only valid
// during the emit call.
type emitter struct {
	fn     func(Metric) // the caller's emit; set for the duration of Collect
	labels []Label      // reused for every sample
}

func (e *emitter) send(name, help string, t ValueType, v float64, labels []Label) {
	e.labels = append(e.labels[:0], labels...)
	e.fn(Metric{Name: name, Help: help, Type: t, Labels: e.labels, Value: v})
}

// gauge sends one gauge sample. The variadic labels do not escape, so a call
// with literal labels does not allocate.
func (e *emitter) gauge(name, help string, v float64, labels ...Label) {
	e.send(name, help, Gauge, v, labels)
}

// counter sends one counter sample.
func (e *emitter) counter(name, help string, v float64, labels ...Label) {
	e.send(name, help, Counter, v, labels)
}
