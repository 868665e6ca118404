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
//
// Each attribute is a file, and reading ~15 files per interface was the
// agent's largest single cost, so the values are cached per device:
//
//   - With a linkWatch (the real /sys of a Linux host), every attribute is
//     reused until the kernel announces a change to some interface, then
//     all are read again.
//   - Without one (a fixture root, or no netlink), the attributes that only
//     change when the interface is re-created (static ones) are reused and
//     the others read on every collection.
//
// Either way everything is read when a device appears and then every
// netclassStaticRefresh collections.
type netclassCollector struct {
	dir   string
	r     fileReader
	cache strcache                   // label values
	info  [6]Label                   // reused labels of node_network_info
	watch *linkWatch                 // nil: no change notifications
	devs  map[string]*netclassDevice // device -> cached attributes
	live  map[string]bool            // devices seen in this collection
}

// netclassDevice holds the attributes of one device as last read.
type netclassDevice struct {
	age               int // collections since all were read
	operstate, duplex string
	address, bcast    string
	ifalias           string
	values            [len(netclassAttrs)]float64
	present           [len(netclassAttrs)]bool // whether each was readable
}

// netclassStaticRefresh is how many collections cached attributes are
// reused for at most.
const netclassStaticRefresh = 20

func newNetclass(cfg *Config, _ *slog.Logger) (collector, error) {
	c := &netclassCollector{dir: cfg.sys("class", "net"), devs: map[string]*netclassDevice{}, live: map[string]bool{}}
	if cfg.SysPath == "/sys" {
		c.watch = newLinkWatch()
	}
	return c, nil
}

// netclassAttrs are the numeric attributes, in node_exporter's naming.
var netclassAttrs = [...]struct {
	file, name, help string
	t                ValueType
	hex              bool
	scale            float64
	static           bool // changes only when the device is re-created
}{
	{"addr_assign_type", "node_network_address_assign_type", "Network device property: address_assign_type", Gauge, false, 1, true},
	{"carrier", "node_network_carrier", "Network device property: carrier", Gauge, false, 1, false},
	{"carrier_changes", "node_network_carrier_changes_total", "Network device property: carrier_changes_total", Counter, false, 1, false},
	{"carrier_up_count", "node_network_carrier_up_changes_total", "Network device property: carrier_up_changes_total", Counter, false, 1, false},
	{"carrier_down_count", "node_network_carrier_down_changes_total", "Network device property: carrier_down_changes_total", Counter, false, 1, false},
	{"dev_id", "node_network_device_id", "Network device property: device_id", Gauge, true, 1, true},
	{"dormant", "node_network_dormant", "Network device property: dormant", Gauge, false, 1, false},
	{"flags", "node_network_flags", "Network device property: flags", Gauge, true, 1, false},
	{"ifindex", "node_network_iface_id", "Network device property: iface_id", Gauge, false, 1, true},
	{"iflink", "node_network_iface_link", "Network device property: iface_link", Gauge, false, 1, true},
	{"link_mode", "node_network_iface_link_mode", "Network device property: iface_link_mode", Gauge, false, 1, false},
	{"mtu", "node_network_mtu_bytes", "Network device property: mtu_bytes", Gauge, false, 1, false},
	{"name_assign_type", "node_network_name_assign_type", "Network device property: name_assign_type", Gauge, false, 1, true},
	{"netdev_group", "node_network_net_dev_group", "Network device property: net_dev_group", Gauge, false, 1, false},
	{"speed", "node_network_speed_bytes", "Network device property: speed_bytes", Gauge, false, 1e6 / 8, false}, // Mbit/s
	{"tx_queue_len", "node_network_transmit_queue_length", "Network device property: transmit_queue_length", Gauge, false, 1, false},
	{"type", "node_network_protocol_type", "Network device property: protocol_type", Gauge, false, 1, true},
}

func (c *netclassCollector) update(e *emitter) error {
	devs, err := c.r.listDir(c.dir)
	if err != nil {
		return fmt.Errorf("netclass: %w", noData(err))
	}
	// Nothing announced since the last collection: nothing changed.
	quiet := c.watch != nil && !c.watch.changed()
	clear(c.live)
	for _, dev := range devs {
		c.live[dev] = true
		if err := c.device(e, dev, quiet); err != nil {
			return err
		}
	}
	for dev := range c.devs {
		if !c.live[dev] {
			delete(c.devs, dev)
		}
	}
	return nil
}

// attrs returns the attributes of dev, read or reused as the type's
// comment says.
func (c *netclassCollector) attrs(dev string, quiet bool) (*netclassDevice, error) {
	d := c.devs[dev]
	all := d == nil || d.age >= netclassStaticRefresh || (c.watch != nil && !quiet)
	switch {
	case all:
		d = &netclassDevice{}
		c.devs[dev] = d
	case quiet:
		d.age++
		return d, nil
	default:
		d.age++
	}
	if d.operstate = c.text(dev, "operstate"); d.operstate == "" {
		return d, nil // not an interface; see device
	}
	d.duplex = c.text(dev, "duplex")
	if all {
		d.address, d.bcast, d.ifalias = c.text(dev, "address"), c.text(dev, "broadcast"), c.text(dev, "ifalias")
	}
	for i, a := range netclassAttrs {
		if a.static && !all {
			continue
		}
		v, ok, err := c.number(dev, i)
		if err != nil {
			delete(c.devs, dev) // read it all again next time
			return nil, err
		}
		d.values[i], d.present[i] = v, ok
	}
	return d, nil
}

// number reads the numeric attribute netclassAttrs[i] of dev; ok is false
// when the kernel does not show it.
func (c *netclassCollector) number(dev string, i int) (v float64, ok bool, err error) {
	a := &netclassAttrs[i]
	b, err := c.r.readTrim(c.dir, "/", dev, "/", a.file)
	if err != nil || len(b) == 0 {
		return 0, false, nil
	}
	if a.hex {
		x, ok := parseHex(b)
		if !ok {
			return 0, false, fmt.Errorf("netclass: bad %s of %s: %q", a.file, dev, snippet(b))
		}
		return float64(x) * a.scale, true, nil
	}
	neg := bytes.HasPrefix(b, []byte("-"))
	x, ok := parseUint(bytes.TrimPrefix(b, []byte("-")))
	if !ok {
		return 0, false, fmt.Errorf("netclass: bad %s of %s: %q", a.file, dev, snippet(b))
	}
	v = float64(x)
	if neg {
		v = -v
	}
	return v * a.scale, true, nil
}

// text reads a string attribute; an unreadable one is "".
func (c *netclassCollector) text(dev, file string) string {
	b, err := c.r.readTrim(c.dir, "/", dev, "/", file)
	if err != nil {
		return ""
	}
	return c.cache.get(b)
}

func (c *netclassCollector) device(e *emitter, dev string, quiet bool) error {
	d, err := c.attrs(dev, quiet)
	if err != nil {
		return err
	}
	if d.operstate == "" {
		// Not an interface directory (bonding_masters is a file here).
		return nil
	}
	devLabel := Label{"device", dev}
	up := 0.0
	if d.operstate == "up" {
		up = 1
	}
	e.gauge("node_network_up", "Value is 1 if operstate is 'up', 0 otherwise.", up, devLabel)
	c.info = [6]Label{
		{"address", d.address},
		{"broadcast", d.bcast},
		devLabel,
		{"duplex", d.duplex},
		{"ifalias", d.ifalias},
		{"operstate", d.operstate},
	}
	e.gauge("node_network_info", "Non-numeric data from /sys/class/net/<iface>, value is always 1.", 1, c.info[:]...)
	for i, a := range netclassAttrs {
		if d.present[i] {
			e.send(a.name, a.help, a.t, d.values[i], []Label{devLabel})
		}
	}
	return nil
}
