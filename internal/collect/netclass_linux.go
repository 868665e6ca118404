package collect

import (
	"bytes"
	"fmt"
	"log/slog"
)

func init() {
	register("netclass", true, "Exposes network interface info from /sys/class/net/.", newNetclass)
}

// netclassCollector reads the attributes of each interface in
// /sys/class/net. Attributes the kernel refuses to show (carrier of a down
// interface gives EINVAL) are left out, as node_exporter does.
type netclassCollector struct {
	dir   string
	r     fileReader
	cache strcache // label values
	info  [6]Label // reused labels of node_network_info
}

func newNetclass(cfg *Config, _ *slog.Logger) (collector, error) {
	return &netclassCollector{dir: cfg.sys("class", "net")}, nil
}

// netclassAttrs are the numeric attributes, in node_exporter's naming.
var netclassAttrs = [...]struct {
	file, name, help string
	t                ValueType
	hex              bool
	scale            float64
}{
	{"addr_assign_type", "node_network_address_assign_type", "Network device property: address_assign_type", Gauge, false, 1},
	{"carrier", "node_network_carrier", "Network device property: carrier", Gauge, false, 1},
	{"carrier_changes", "node_network_carrier_changes_total", "Network device property: carrier_changes_total", Counter, false, 1},
	{"carrier_up_count", "node_network_carrier_up_changes_total", "Network device property: carrier_up_changes_total", Counter, false, 1},
	{"carrier_down_count", "node_network_carrier_down_changes_total", "Network device property: carrier_down_changes_total", Counter, false, 1},
	{"dev_id", "node_network_device_id", "Network device property: device_id", Gauge, true, 1},
	{"dormant", "node_network_dormant", "Network device property: dormant", Gauge, false, 1},
	{"flags", "node_network_flags", "Network device property: flags", Gauge, true, 1},
	{"ifindex", "node_network_iface_id", "Network device property: iface_id", Gauge, false, 1},
	{"iflink", "node_network_iface_link", "Network device property: iface_link", Gauge, false, 1},
	{"link_mode", "node_network_iface_link_mode", "Network device property: iface_link_mode", Gauge, false, 1},
	{"mtu", "node_network_mtu_bytes", "Network device property: mtu_bytes", Gauge, false, 1},
	{"name_assign_type", "node_network_name_assign_type", "Network device property: name_assign_type", Gauge, false, 1},
	{"netdev_group", "node_network_net_dev_group", "Network device property: net_dev_group", Gauge, false, 1},
	{"speed", "node_network_speed_bytes", "Network device property: speed_bytes", Gauge, false, 1e6 / 8}, // Mbit/s
	{"tx_queue_len", "node_network_transmit_queue_length", "Network device property: transmit_queue_length", Gauge, false, 1},
	{"type", "node_network_protocol_type", "Network device property: protocol_type", Gauge, false, 1},
}

func (c *netclassCollector) update(e *emitter) error {
	devs, err := listDir(c.dir)
	if err != nil {
		return fmt.Errorf("netclass: %w", noData(err))
	}
	for _, dev := range devs {
		if err := c.device(e, dev); err != nil {
			return err
		}
	}
	return nil
}

// text reads a string attribute; an unreadable one is "".
func (c *netclassCollector) text(dev, file string) string {
	b, err := c.r.readTrim(c.dir, "/", dev, "/", file)
	if err != nil {
		return ""
	}
	return c.cache.get(b)
}

func (c *netclassCollector) device(e *emitter, dev string) error {
	devLabel := Label{"device", dev}
	operstate := c.text(dev, "operstate")
	if operstate == "" {
		// Not an interface directory (bonding_masters is a file here).
		return nil
	}
	up := 0.0
	if operstate == "up" {
		up = 1
	}
	e.gauge("node_network_up", "Value is 1 if operstate is 'up', 0 otherwise.", up, devLabel)
	c.info = [6]Label{
		{"address", c.text(dev, "address")},
		{"broadcast", c.text(dev, "broadcast")},
		devLabel,
		{"duplex", c.text(dev, "duplex")},
		{"ifalias", c.text(dev, "ifalias")},
		{"operstate", operstate},
	}
	e.gauge("node_network_info", "Non-numeric data from /sys/class/net/<iface>, value is always 1.", 1, c.info[:]...)
	for _, a := range netclassAttrs {
		b, err := c.r.readTrim(c.dir, "/", dev, "/", a.file)
		if err != nil || len(b) == 0 {
			continue
		}
		var v float64
		if a.hex {
			x, ok := parseHex(b)
			if !ok {
				return fmt.Errorf("netclass: bad %s of %s: %q", a.file, dev, snippet(b))
			}
			v = float64(x)
		} else {
			neg := bytes.HasPrefix(b, []byte("-"))
			x, ok := parseUint(bytes.TrimPrefix(b, []byte("-")))
			if !ok {
				return fmt.Errorf("netclass: bad %s of %s: %q", a.file, dev, snippet(b))
			}
			v = float64(x)
			if neg {
				v = -v
			}
		}
		e.send(a.name, a.help, a.t, v*a.scale, []Label{devLabel})
	}
	return nil
}
