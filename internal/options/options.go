// Package options declares a program's settings once. One declaration
// names a setting, sets its default and gives its help text; from it come
// the command-line flag, the key of the YAML configuration file (the same
// name as the flag), the default, and the line of -help. Nothing else in
// the program repeats the name, the default or the help.
//
// A configuration file is a YAML mapping of option names to values:
//
//	listen: ":9876"
//	retention: 15d
//	remote-write: [http://vminsert:8480/insert/0/prometheus/api/v1/write]
//	remote-write.shards: 8
//
// Dotted names may also be written as a nested mapping: the key
// "remote-write.shards" above is the same as
//
//	remote-write:
//	  shards: 8
//
// A key whose value is a mapping is such a section, even where an option
// has the same name, unless that option decodes its own YAML (see Var).
// Unknown keys are errors that name the file's line; older spellings of a
// key are accepted with a warning where an Alias declares them.
// Options given on the command line win over the file; a repeatable option
// given on the command line replaces the file's list rather than adding to
// it.
//
// A Set is not safe for concurrent use; it is meant for start-up (and for a
// reload, which parses again into a new configuration).
package options

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Option is one declared setting.
type Option struct {
	Name  string     // flag name and YAML key
	Help  string     // one line, for -help
	Value flag.Value // holds the setting; its String at declaration is the default
	// Default is the default as text, as Value.String gave it when declared.
	Default string
	// Repeatable options are lists: each use of the flag adds an item, and
	// the YAML value is a sequence.
	Repeatable bool
}

// Set is a program's declared options. The zero value is not usable; call
// New.
type Set struct {
	opts       []*Option
	byName     map[string]*Option
	aliases    map[string]string // deprecated YAML key → option name
	config     *string           // the configuration flag's value, if declared
	configName string            // and its name and help
	configHelp string
	warnings   []string // from the last Load
}

// New returns an empty Set.
func New() *Set {
	return &Set{byName: map[string]*Option{}, aliases: map[string]string{}}
}

// Var declares an option held by v, whose current value is its default.
// If v also implements yaml.Unmarshaler it decodes its own YAML value
// (a list of objects, say); otherwise the YAML value is given to Set as
// text, item by item for a repeatable option. Declaring a name twice
// panics: it is a programming error.
func (s *Set) Var(v flag.Value, name, help string, repeatable bool) *Option {
	if _, dup := s.byName[name]; dup || name == "" {
		panic("options: bad or duplicate option name " + strconv.Quote(name))
	}
	o := &Option{Name: name, Help: help, Value: v, Default: v.String(), Repeatable: repeatable}
	s.opts = append(s.opts, o)
	s.byName[name] = o
	return o
}

// String declares a string option.
func (s *Set) String(p *string, name, def, help string) {
	*p = def
	s.Var((*stringValue)(p), name, help, false)
}

// Int declares an integer option.
func (s *Set) Int(p *int, name string, def int, help string) {
	*p = def
	s.Var((*intValue)(p), name, help, false)
}

// Bool declares a boolean option; on the command line "-name" alone sets
// it true.
func (s *Set) Bool(p *bool, name string, def bool, help string) {
	*p = def
	s.Var((*boolValue)(p), name, help, false)
}

// Duration declares a duration option. Values are written as Prometheus
// writes them (15d, 1h30m, 500ms) or as Go does (1.5s); the default shows
// the Prometheus form.
func (s *Set) Duration(p *time.Duration, name string, def time.Duration, help string) {
	*p = def
	s.Var((*durationValue)(p), name, help, false)
}

// Strings declares a repeatable option: each -name adds an item; in YAML,
// a sequence (or one string).
func (s *Set) Strings(p *[]string, name, help string) {
	*p = nil
	s.Var((*stringsValue)(p), name, help, true)
}

// Alias makes a configuration file key an older spelling of option name.
// Files using it still load, with a warning naming the new key.
func (s *Set) Alias(old, name string) { s.aliases[old] = name }

// ConfigFlag declares the flag naming the configuration file (it has no
// YAML key of its own). Parse loads the file it names.
func (s *Set) ConfigFlag(name, help string) {
	s.config = new(string)
	s.configName = name
	s.configHelp = help
}

// Options returns the declared options in declaration order.
func (s *Set) Options() []*Option { return s.opts }

// Lookup returns the option of that name, nil if none.
func (s *Set) Lookup(name string) *Option { return s.byName[name] }

// Warnings returns what the last Load or Parse found worth telling the
// operator without failing: deprecated keys.
func (s *Set) Warnings() []string { return s.warnings }

// Register defines a flag on fs for every option.
func (s *Set) Register(fs *flag.FlagSet) {
	for _, o := range s.opts {
		fs.Var(o.Value, o.Name, o.Help)
	}
	if s.config != nil {
		fs.StringVar(s.config, s.configName, "", s.configHelp)
	}
}

// ConfigFile returns the path the configuration flag was given, "" if
// none (or if no configuration flag was declared).
func (s *Set) ConfigFile() string {
	if s.config == nil {
		return ""
	}
	return *s.config
}

// Parse registers the options on fs, parses args, then loads the
// configuration file if the configuration flag names one, skipping the
// options the command line set.
func (s *Set) Parse(fs *flag.FlagSet, args []string) error {
	s.Register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	path := s.ConfigFile()
	if path == "" {
		return nil
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	return s.Load(path, given)
}

// Load applies the YAML file at path, leaving the options in skip alone.
func (s *Set) Load(path string, skip map[string]bool) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := s.LoadBytes(b, skip); err != nil {
		return fmt.Errorf("config %s:%w", path, err)
	}
	return nil
}

// LoadBytes is Load of a file's content. Its errors begin with the line
// number ("12: retention: ...").
func (s *Set) LoadBytes(b []byte, skip map[string]bool) error {
	s.warnings = nil
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf(" %w", err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil // an empty file
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%d: want a mapping of option names to values", root.Line)
	}
	return s.loadMapping(root, "", skip, map[string]int{})
}

func (s *Set) loadMapping(m *yaml.Node, prefix string, skip map[string]bool, seen map[string]int) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		key := prefix + k.Value
		if v.Kind == yaml.MappingNode && !s.decodesItself(key) {
			if err := s.loadMapping(v, key+".", skip, seen); err != nil {
				return err
			}
			continue
		}
		name := key
		if to, ok := s.aliases[key]; ok {
			s.warnings = append(s.warnings, fmt.Sprintf("line %d: %q is deprecated; write %q", k.Line, key, to))
			name = to
		}
		o := s.byName[name]
		if o == nil {
			return fmt.Errorf("%d: unknown option %q", k.Line, key)
		}
		if line, dup := seen[name]; dup {
			return fmt.Errorf("%d: %q is also set on line %d", k.Line, key, line)
		}
		seen[name] = k.Line
		if skip[name] {
			continue
		}
		if err := o.set(v); err != nil {
			return fmt.Errorf("%d: %s: %w", v.Line, key, err)
		}
	}
	return nil
}

func (s *Set) decodesItself(name string) bool {
	if to, ok := s.aliases[name]; ok {
		name = to
	}
	o := s.byName[name]
	if o == nil {
		return false
	}
	_, ok := o.Value.(yaml.Unmarshaler)
	return ok
}

// resetter is a repeatable value that can be emptied before a file's list
// is applied.
type resetter interface{ reset() }

// set applies a YAML value to the option.
func (o *Option) set(v *yaml.Node) error {
	if u, ok := o.Value.(yaml.Unmarshaler); ok {
		return v.Decode(u)
	}
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil // "key:" with no value keeps the default
	}
	if o.Repeatable {
		if r, ok := o.Value.(resetter); ok {
			r.reset()
		}
		items := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			items = v.Content
		}
		for _, it := range items {
			if it.Kind != yaml.ScalarNode {
				return errors.New("want a list of strings")
			}
			if err := o.Value.Set(it.Value); err != nil {
				return err
			}
		}
		return nil
	}
	if v.Kind != yaml.ScalarNode {
		return errors.New("want a single value")
	}
	return o.Value.Set(v.Value)
}

// Usage writes every option with its default and help, sorted by name, as
// lines "-name default\n\thelp".
func (s *Set) Usage() string {
	opts := append([]*Option(nil), s.opts...)
	sort.Slice(opts, func(i, j int) bool { return opts[i].Name < opts[j].Name })
	var b strings.Builder
	for _, o := range opts {
		fmt.Fprintf(&b, "-%s %s\n\t%s\n", o.Name, o.Default, o.Help)
	}
	return b.String()
}

type stringValue string

func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }
func (v *stringValue) String() string     { return string(*v) }

type intValue int

func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%q is not an integer", s)
	}
	*v = intValue(n)
	return nil
}
func (v *intValue) String() string { return strconv.Itoa(int(*v)) }

type boolValue bool

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%q is not true or false", s)
	}
	*v = boolValue(b)
	return nil
}
func (v *boolValue) String() string   { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) IsBoolFlag() bool { return true }

type durationValue time.Duration

func (v *durationValue) Set(s string) error {
	s = strings.TrimSpace(s)
	if d, err := parseDuration(s); err == nil {
		*v = durationValue(d)
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration (e.g. 30s, 5m, 15d)", s)
	}
	*v = durationValue(d)
	return nil
}

func (v *durationValue) String() string {
	d := time.Duration(*v)
	if d%time.Millisecond != 0 || d < 0 {
		return d.String()
	}
	return formatDuration(d)
}

type stringsValue []string

func (v *stringsValue) Set(s string) error { *v = append(*v, s); return nil }
func (v *stringsValue) String() string     { return strings.Join(*v, ",") }
func (v *stringsValue) reset()             { *v = nil }
