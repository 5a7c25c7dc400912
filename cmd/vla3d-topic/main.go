// Command vla3d-topic is `ros2 topic hz` / `echo` for the data contract's
// message types, over ROS 2 (DDS, no ROS installation needed) or ROS 1:
// what the demo uses to show the node's commands and diagnostics.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/diagnostic_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/tf2_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/trajectory_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/visualization_msgs"
	"go.uber.org/zap"
	"gopkg.in/yaml.v3"

	"github.com/vla3d/vla3d/cli"
	"github.com/vla3d/vla3d/transport"
	"github.com/vla3d/vla3d/transport/dial"
)

const usage = `vla3d-topic: rate of, or messages on, one topic (ros2 topic hz / echo).

Usage:
  vla3d-topic hz   [flags] TOPIC TYPE     print the average rate over -duration
  vla3d-topic echo [flags] TOPIC TYPE     print -n messages as YAML

TYPE is one of the data contract's types (pkg/Name): %s.

Exit status: 0 when messages arrived, 1 when none did within -duration, 2 on
a usage error.

Flags:
`

// types are the message types vla3d-topic can decode.
var types = map[string]func() any{
	"geometry_msgs/PoseStamped":       func() any { return &geometry_msgs.PoseStamped{} },
	"std_msgs/Float64":                func() any { return &std_msgs.Float64{} },
	"std_msgs/String":                 func() any { return &std_msgs.String{} },
	"trajectory_msgs/JointTrajectory": func() any { return &trajectory_msgs.JointTrajectory{} },
	"diagnostic_msgs/DiagnosticArray": func() any { return &diagnostic_msgs.DiagnosticArray{} },
	"sensor_msgs/Image":               func() any { return &sensor_msgs.Image{} },
	"sensor_msgs/CameraInfo":          func() any { return &sensor_msgs.CameraInfo{} },
	"sensor_msgs/JointState":          func() any { return &sensor_msgs.JointState{} },
	"tf2_msgs/TFMessage":              func() any { return &tf2_msgs.TFMessage{} },
	"visualization_msgs/MarkerArray":  func() any { return &visualization_msgs.MarkerArray{} },
}

func typeNames() string {
	var out []string
	for k := range types {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "hz" && args[0] != "echo") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintf(stdout, usage, typeNames())
			return nil
		}
		return cli.Usagef("want a subcommand: hz or echo (see --help)")
	}
	verb := args[0]
	fs := flag.NewFlagSet("vla3d-topic "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	kind := fs.String("transport", "ros2", "ros2 or ros1")
	master := fs.String("master", "", "ROS 1 master host:port (default $ROS_MASTER_URI)")
	duration := fs.Duration("duration", 5*time.Second, "how long to listen")
	count := fs.Int("n", 1, "echo: messages to print")
	qos := fs.String("qos", "", "ROS 2 QoS profile: default, sensor_data, transient_local (default: transient_local for /tf_static and /instruction, else sensor_data)")
	logLevel := cli.LogFlags(fs, cli.LogConf{})
	fs.Usage = func() { fmt.Fprintf(fs.Output(), usage, typeNames()); fs.PrintDefaults() }
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return cli.Usage(fs.Name(), err)
	}
	if fs.NArg() != 2 {
		return cli.Usagef("want TOPIC TYPE, got %q", fs.Args())
	}
	topic, typ := fs.Arg(0), fs.Arg(1)
	newMsg, ok := types[strings.Replace(typ, "/msg/", "/", 1)]
	if !ok {
		return cli.Usagef("unknown type %q (one of %s)", typ, typeNames())
	}
	k, err := transport.ParseKind(*kind)
	if err != nil {
		return cli.Usagef("%v", err)
	}
	prof := transport.SensorData
	if topic == "/tf_static" || topic == "/instruction" {
		prof = transport.Latched
	}
	if *qos != "" {
		if prof, err = transport.ParseProfile(*qos); err != nil {
			return cli.Usagef("%v", err)
		}
	}
	log, err := cli.Logger(*logLevel, stderr)
	if err != nil {
		return err
	}
	m := *master
	if m == "" {
		m = strings.TrimSuffix(strings.TrimPrefix(os.Getenv("ROS_MASTER_URI"), "http://"), "/")
	}
	if m == "" {
		m = "127.0.0.1:11311"
	}
	tr, err := dial.Open(dial.Conf{Kind: k, Name: fmt.Sprintf("vla3d_topic_%d", os.Getpid()), MasterAddress: m,
		ROS2: transport.DefaultROS2Settings(), Getenv: os.Getenv, Logger: log})
	if err != nil {
		return err
	}
	defer tr.Close()

	var mu sync.Mutex
	var stamps []time.Time
	var echoed []any
	done := make(chan struct{})
	var once sync.Once
	sub, err := tr.Subscribe(topic, newMsg, func(msg any) {
		mu.Lock()
		defer mu.Unlock()
		stamps = append(stamps, time.Now())
		if verb == "echo" && len(echoed) < *count {
			echoed = append(echoed, msg)
			if len(echoed) == *count {
				once.Do(func() { close(done) })
			}
		}
	}, prof, func(err error) { log.Warn("undecodable message", zap.Error(err)) })
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-done:
	case <-time.After(*duration):
	}
	sub.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(stamps) == 0 {
		return fmt.Errorf("no %s message on %s within %v", typ, topic, *duration)
	}
	if verb == "echo" {
		enc := yaml.NewEncoder(stdout)
		for _, msg := range echoed {
			if err := enc.Encode(plain(reflect.ValueOf(msg))); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "---")
		}
		return nil
	}
	if len(stamps) < 2 {
		fmt.Fprintf(stdout, "%s: 1 message in %v\n", topic, *duration)
		return nil
	}
	span := stamps[len(stamps)-1].Sub(stamps[0]).Seconds()
	fmt.Fprintf(stdout, "%s: average rate %.2f Hz over %d messages (%.1f s)\n", topic, float64(len(stamps)-1)/span, len(stamps), span)
	return nil
}

// plain turns a goroslib message into maps and slices with ROS field
// names, leaving out goroslib's marker fields (msg.Package and kin).
func plain(v reflect.Value) any {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			return t.UTC().Format(time.RFC3339Nano)
		}
		out := yaml.Node{Kind: yaml.MappingNode}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if f.Anonymous || !f.IsExported() {
				continue
			}
			var val yaml.Node
			if err := val.Encode(plain(v.Field(i))); err != nil {
				continue
			}
			out.Content = append(out.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: snake(f.Name)}, &val)
		}
		return &out
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 && v.Len() > 32 {
			return fmt.Sprintf("<%d bytes>", v.Len())
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = plain(v.Index(i))
		}
		return out
	}
	if d, ok := v.Interface().(time.Duration); ok {
		return d.String()
	}
	return v.Interface()
}

// snake turns a Go field name into the ROS one: FrameId -> frame_id.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func main() { os.Exit(cli.Main("vla3d-topic", run)) }
