package collect

import (
	"bytes"
	"fmt"
	"log/slog"
	"regexp"
)

func init() {
	register("netstat", true, "Exposes network statistics from /proc/net/netstat, snmp and snmp6.", newNetstat)
}

// netstatFields is node_exporter's default --collector.netstat.fields
// (v1.8 and later, which added TCPOFOQueue and TCPRcvQDrop).
var netstatFields = regexp.MustCompile(`^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts|TCPOFOQueue|TCPRcvQDrop)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$`)

// netstatCollector reads the protocol counters of the kernel's SNMP MIBs.
//
// The files list the same names in the same order every time, so each
// header line (and each line of snmp6) is remembered by its position with
// the metrics its fields map to: a collection compares the line with the
// remembered one and parses only the selected values, instead of splitting
// the header and filtering ~300 names.
type netstatCollector struct {
	netstat, snmp, snmp6 string
	r                    fileReader
	hdr, val             [][]byte               // reused field slices
	names                map[string]netstatName // "Proto_Key" -> name, "" if filtered
	key                  []byte                 // scratch for map keys
	lines                [3][]netstatLine       // per file, by line position
}

// netstatLine is a remembered header line: its text, its protocol and the
// metric of each field after the first ("" if filtered).
type netstatLine struct {
	text  string
	proto string
	names []netstatName
}

// line returns the remembered header line at position i of file f,
// remembering h there if it differs.
func (c *netstatCollector) line(f, i int, h []byte) (*netstatLine, error) {
	ls := c.lines[f]
	if i < len(ls) && ls[i].text == string(h) {
		return &ls[i], nil
	}
	c.hdr = splitFields(c.hdr, h)
	if len(c.hdr) < 2 {
		return nil, fmt.Errorf("netstat: bad header line %q", snippet(h))
	}
	proto := bytes.TrimSuffix(c.hdr[0], []byte(":"))
	l := netstatLine{text: string(h), proto: string(proto), names: make([]netstatName, len(c.hdr)-1)}
	for j, k := range c.hdr[1:] {
		l.names[j] = c.lookup(proto, k)
	}
	if i >= len(ls) {
		ls = append(ls, make([]netstatLine, i+1-len(ls))...)
	}
	ls[i] = l
	c.lines[f] = ls
	return &ls[i], nil
}

type netstatName struct{ name, help string }

func newNetstat(cfg *Config, _ *slog.Logger) (collector, error) {
	return &netstatCollector{
		netstat: cfg.proc("net", "netstat"),
		snmp:    cfg.proc("net", "snmp"),
		snmp6:   cfg.proc("net", "snmp6"),
		names:   map[string]netstatName{},
	}, nil
}

// lookup returns the metric for proto and key, deciding the filter once.
func (c *netstatCollector) lookup(proto, key []byte) netstatName {
	c.key = append(append(append(c.key[:0], proto...), '_'), key...)
	if n, ok := c.names[string(c.key)]; ok {
		return n
	}
	var n netstatName
	if netstatFields.Match(c.key) {
		n = netstatName{"node_netstat_" + string(c.key), "Statistic " + string(proto) + string(key) + "."}
	}
	c.names[string(c.key)] = n
	return n
}

func (c *netstatCollector) update(e *emitter) error {
	for f, p := range [2]string{c.netstat, c.snmp} {
		b, err := c.r.read(p)
		if err != nil {
			return fmt.Errorf("netstat: %w", noData(err))
		}
		if err := c.parsePairs(e, f, b); err != nil {
			return err
		}
	}
	b, err := c.r.read(c.snmp6)
	if err != nil {
		if isMissing(err) {
			return nil // IPv6 disabled
		}
		return fmt.Errorf("netstat: %w", err)
	}
	return c.parseSNMP6(e, b)
}

// parsePairs handles /proc/net/netstat and snmp (file f: 0 and 1), where
// a line of names ("Tcp: RtoAlgorithm RtoMin ...") is followed by a line
// of values.
func (c *netstatCollector) parsePairs(e *emitter, f int, b []byte) error {
	for i := 0; len(b) > 0; i++ {
		var h, v []byte
		h, b = nextLine(b)
		if len(bytes.TrimSpace(h)) == 0 {
			continue
		}
		v, b = nextLine(b)
		l, err := c.line(f, i, h)
		if err != nil {
			return err
		}
		c.val = splitFields(c.val, v)
		if len(c.val) != len(l.names)+1 || string(bytes.TrimSuffix(c.val[0], []byte(":"))) != l.proto {
			return fmt.Errorf("netstat: mismatched lines %q and %q", snippet(h), snippet(v))
		}
		for j, n := range l.names {
			if n.name == "" {
				continue
			}
			x, ok := parseFloat(c.val[j+1])
			if !ok {
				return fmt.Errorf("netstat: bad value %q for %s", snippet(c.val[j+1]), n.name)
			}
			e.untyped(n.name, n.help, x)
		}
	}
	return nil
}

// parseSNMP6 handles /proc/net/snmp6 lines like "Ip6InReceives 1"; the
// protocol is the name up to its first '6'.
func (c *netstatCollector) parseSNMP6(e *emitter, b []byte) error {
	for i := 0; len(b) > 0; i++ {
		var line []byte
		line, b = nextLine(b)
		c.val = splitFields(c.val, line)
		if len(c.val) != 2 {
			continue
		}
		n := c.snmp6Name(i, c.val[0])
		if n.name == "" {
			continue
		}
		x, ok := parseFloat(c.val[1])
		if !ok {
			return fmt.Errorf("netstat: bad value in line %q", snippet(line))
		}
		e.untyped(n.name, n.help, x)
	}
	return nil
}

// snmp6Name returns the metric of the snmp6 line at position i named key,
// remembering it there; the protocol is the name up to its first '6'.
func (c *netstatCollector) snmp6Name(i int, key []byte) netstatName {
	ls := c.lines[2]
	if i < len(ls) && ls[i].text == string(key) {
		return ls[i].names[0]
	}
	var n netstatName
	if j := bytes.IndexByte(key, '6'); j >= 0 {
		n = c.lookup(key[:j+1], key[j+1:])
	}
	if i >= len(ls) {
		ls = append(ls, make([]netstatLine, i+1-len(ls))...)
	}
	ls[i] = netstatLine{text: string(key), names: []netstatName{n}}
	c.lines[2] = ls
	return n
}

// untyped sends one untyped sample.
func (e *emitter) untyped(name, help string, v float64, labels ...Label) {
	e.send(name, help, Untyped, v, labels)
}
