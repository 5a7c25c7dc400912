package cli

import (
	"fmt"
	"strings"
)

// ROS2Args are the ROS 2 (rcl) arguments of a command line: what `ros2
// run` and `ros2 launch` pass after --ros-args, e.g.
// `--ros-args -r __node:=vla3d_node --params-file /tmp/params.yaml`.
type ROS2Args struct {
	Node      string // -r __node:=NAME (or __name:=)
	Namespace string // -r __ns:=NS
	// ParamsFiles are the --params-file paths, in order.
	ParamsFiles []string
	// Params are the -p NAME:=VALUE pairs, in order (later wins).
	Params [][2]string
	// Remaps are the -r FROM:=TO topic remappings.
	Remaps map[string]string
	// LogLevel is --log-level LEVEL (one logger name may prefix it: NAME:=LEVEL).
	LogLevel string
	// Seen reports whether the command line had a --ros-args section.
	Seen bool
}

// SplitROS2Args removes every `--ros-args ... [--]` section from args and
// returns what they said and the remaining arguments.
func SplitROS2Args(args []string) (ROS2Args, []string, error) {
	var r ROS2Args
	var rest []string
	for i := 0; i < len(args); i++ {
		if args[i] != "--ros-args" {
			rest = append(rest, args[i])
			continue
		}
		r.Seen = true
		for i++; i < len(args) && args[i] != "--"; i++ {
			a := args[i]
			val := func() (string, error) {
				if i+1 >= len(args) || args[i+1] == "--" {
					return "", Usagef("--ros-args: %s needs a value", a)
				}
				i++
				return args[i], nil
			}
			switch a {
			case "-r", "--remap":
				v, err := val()
				if err != nil {
					return r, nil, err
				}
				from, to, ok := strings.Cut(v, ":=")
				if !ok || from == "" {
					return r, nil, Usagef("--ros-args -r %q: want FROM:=TO", v)
				}
				if i := strings.Index(from, ":"); i > 0 && !strings.HasPrefix(from, "__") {
					from = from[i+1:] // node-specific remap NODE:FROM
				}
				switch from {
				case "__node", "__name":
					r.Node = to
				case "__ns":
					r.Namespace = to
				default:
					if r.Remaps == nil {
						r.Remaps = map[string]string{}
					}
					r.Remaps[from] = to
				}
			case "--params-file":
				v, err := val()
				if err != nil {
					return r, nil, err
				}
				r.ParamsFiles = append(r.ParamsFiles, v)
			case "-p", "--param":
				v, err := val()
				if err != nil {
					return r, nil, err
				}
				k, pv, ok := strings.Cut(v, ":=")
				if !ok || k == "" {
					return r, nil, Usagef("--ros-args -p %q: want NAME:=VALUE", v)
				}
				r.Params = append(r.Params, [2]string{k, pv})
			case "--log-level":
				v, err := val()
				if err != nil {
					return r, nil, err
				}
				if _, lvl, ok := strings.Cut(v, ":="); ok {
					v = lvl
				}
				r.LogLevel = strings.ToLower(v)
			case "-e", "--enclave", "--log-config-file":
				if _, err := val(); err != nil {
					return r, nil, err
				}
			case "--disable-rosout-logs", "--enable-rosout-logs", "--disable-stdout-logs", "--enable-stdout-logs",
				"--disable-external-lib-logs", "--enable-external-lib-logs":
			default:
				return r, nil, Usagef("--ros-args: unsupported argument %q", a)
			}
		}
	}
	if r.Node != "" && strings.ContainsAny(r.Node, "/~ ") {
		return r, nil, fmt.Errorf("--ros-args -r __node:=%s: not a node name", r.Node)
	}
	return r, rest, nil
}
