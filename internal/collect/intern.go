package collect

// strcache interns label values built from file content so that repeated
// collections do not allocate a new string for the same device name.
type strcache map[string]string

// maxCached bounds a strcache; past it the cache starts over (device names
// churn on hosts that create and delete virtual interfaces).
const maxCached = 4096

func (c *strcache) get(b []byte) string {
	if *c == nil {
		*c = make(strcache)
	}
	if s, ok := (*c)[string(b)]; ok {
		return s
	}
	if len(*c) >= maxCached {
		clear(*c)
	}
	s := string(b)
	(*c)[s] = s
	return s
}
