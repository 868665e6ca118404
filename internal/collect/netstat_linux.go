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
type netstatCollector struct {
	netstat, snmp, snmp6 string
	r                    fileReader
	hdr, val             [][]byte               // reused field slices
	names                map[string]netstatName // "Proto_Key" -> name, "" if filtered
	key                  []byte                 // scratch for map keys
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
	for _, p := range [2]string{c.netstat, c.snmp} {
		b, err := c.r.read(p)
		if err != nil {
			return fmt.Errorf("netstat: %w", noData(err))
		}
		if err := c.parsePairs(e, b); err != nil {
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

// parsePairs handles /proc/net/netstat and snmp, where a line of names
// ("Tcp: RtoAlgorithm RtoMin ...") is followed by a line of values.
func (c *netstatCollector) parsePairs(e *emitter, b []byte) error {
	for len(b) > 0 {
		var h, v []byte
		h, b = nextLine(b)
		if len(bytes.TrimSpace(h)) == 0 {
			continue
		}
		v, b = nextLine(b)
		c.hdr = splitFields(c.hdr, h)
		c.val = splitFields(c.val, v)
		if len(c.hdr) != len(c.val) || len(c.hdr) < 2 || !bytes.Equal(c.hdr[0], c.val[0]) {
			return fmt.Errorf("netstat: mismatched lines %q and %q", snippet(h), snippet(v))
		}
		proto := bytes.TrimSuffix(c.hdr[0], []byte(":"))
		for i := 1; i < len(c.hdr); i++ {
			n := c.lookup(proto, c.hdr[i])
			if n.name == "" {
				continue
			}
			x, ok := parseFloat(c.val[i])
			if !ok {
				return fmt.Errorf("netstat: bad value %q for %s", snippet(c.val[i]), n.name)
			}
			e.untyped(n.name, n.help, x)
		}
	}
	return nil
}

// parseSNMP6 handles /proc/net/snmp6 lines like "Ip6InReceives 1"; the
// protocol is the name up to its first '6'.
func (c *netstatCollector) parseSNMP6(e *emitter, b []byte) error {
	for len(b) > 0 {
		var line []byte
		line, b = nextLine(b)
		c.val = splitFields(c.val, line)
		if len(c.val) != 2 {
			continue
		}
		i := bytes.IndexByte(c.val[0], '6')
		if i < 0 {
			continue
		}
		n := c.lookup(c.val[0][:i+1], c.val[0][i+1:])
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
