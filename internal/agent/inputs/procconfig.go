package inputs

import (
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"
)

// processConfig is process-exporter's configuration file: the matchers of
// its process groups.
type processConfig struct {
	ProcessNames []struct {
		Name    string   `yaml:"name"`
		Comm    []string `yaml:"comm"`
		Exe     []string `yaml:"exe"`
		Cmdline []string `yaml:"cmdline"`
	} `yaml:"process_names"`
}

// checkProcessConfig reads and checks a process-exporter configuration.
// Gathering the groups is not built yet.
func checkProcessConfig(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("process-config: %w", err)
	}
	var pc processConfig
	if err := yaml.Unmarshal(b, &pc); err != nil {
		return fmt.Errorf("process-config %s: %w", path, err)
	}
	for i, p := range pc.ProcessNames {
		if len(p.Comm)+len(p.Exe)+len(p.Cmdline) == 0 {
			return fmt.Errorf("process-config %s: process_names[%d]: no comm, exe or cmdline matcher", path, i)
		}
	}
	return nil
}
