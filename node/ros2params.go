package node

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vla3d/vla3d/cli"
)

// ApplyROS2Args applies what `ros2 run` / `ros2 launch` pass after
// --ros-args to cfg: the node name and namespace, ROS 2 parameter files
// (`<node>: ros__parameters: {...}` with this configuration's keys, nested
// or dotted; sections for the node's name, its fully qualified name or
// `/**` apply, in file order), -p NAME:=VALUE parameters and -r FROM:=TO
// topic remappings (every configured topic equal to FROM becomes TO).
func ApplyROS2Args(cfg Config, a cli.ROS2Args) (Config, error) {
	if a.Node != "" {
		cfg.NodeName = a.Node
	}
	if a.Namespace != "" {
		cfg.ROS2.Namespace = a.Namespace
	}
	var tree map[string]any
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return cfg, fmt.Errorf("node: %w", err)
	}
	if err := yaml.Unmarshal(b, &tree); err != nil {
		return cfg, fmt.Errorf("node: %w", err)
	}
	fqn := "/" + strings.Trim(strings.Trim(cfg.ROS2.Namespace, "/")+"/"+cfg.NodeName, "/")
	for _, path := range a.ParamsFiles {
		raw, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("node: params file: %w", err)
		}
		var file map[string]any
		if err := yaml.Unmarshal(raw, &file); err != nil {
			return cfg, fmt.Errorf("node: params file %s: %w", path, err)
		}
		matched := false
		for _, key := range []string{"/**", "**", cfg.NodeName, "/" + cfg.NodeName, fqn} {
			sec, ok := file[key].(map[string]any)
			if !ok {
				continue
			}
			params, ok := sec["ros__parameters"].(map[string]any)
			if !ok {
				return cfg, fmt.Errorf("node: params file %s: section %q has no ros__parameters", path, key)
			}
			matched = true
			for k, v := range params {
				setDotted(tree, k, v)
			}
		}
		if !matched {
			return cfg, fmt.Errorf("node: params file %s has no section for %s (or /**)", path, fqn)
		}
	}
	for _, p := range a.Params {
		var v any
		if err := yaml.Unmarshal([]byte(p[1]), &v); err != nil {
			return cfg, fmt.Errorf("node: -p %s:=%s: %w", p[0], p[1], err)
		}
		setDotted(tree, p[0], v)
	}
	for from, to := range a.Remaps {
		if n := remapTopics(tree, from, to); n == 0 {
			return cfg, fmt.Errorf("node: remap %s:=%s: no configured topic is %s", from, to, from)
		}
	}
	b, err = yaml.Marshal(tree)
	if err != nil {
		return cfg, fmt.Errorf("node: %w", err)
	}
	out := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&out); err != nil && !errors.Is(err, io.EOF) {
		return cfg, fmt.Errorf("node: ROS 2 parameters: %w", err)
	}
	return out, out.Validate()
}

// setDotted sets tree[a][b][c] = v for key "a.b.c", merging maps.
func setDotted(tree map[string]any, key string, v any) {
	parts := strings.Split(key, ".")
	m := tree
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	last := parts[len(parts)-1]
	if sub, ok := v.(map[string]any); ok {
		if cur, ok := m[last].(map[string]any); ok {
			for k, sv := range sub {
				setDotted(cur, k, sv)
			}
			return
		}
	}
	m[last] = v
}

// remapTopics replaces every topic name equal to from under the topic
// settings (topics, cameras, markers) with to, and counts them.
func remapTopics(tree map[string]any, from, to string) int {
	n := 0
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case string:
			if x == from {
				n++
				return to
			}
		case map[string]any:
			for k, sv := range x {
				x[k] = walk(sv)
			}
		case []any:
			for i, sv := range x {
				x[i] = walk(sv)
			}
		}
		return v
	}
	for _, k := range []string{"topics", "cameras", "markers"} {
		if v, ok := tree[k]; ok {
			tree[k] = walk(v)
		}
	}
	return n
}
