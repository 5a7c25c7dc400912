package main

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"gopkg.in/yaml.v3"
)

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{"FrameId": "frame_id", "X": "x", "Header": "header", "ChildFrameId": "child_frame_id"} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPlainYAML: messages print with ROS field names and without
// goroslib's marker fields.
func TestPlainYAML(t *testing.T) {
	m := &geometry_msgs.PoseStamped{Header: std_msgs.Header{FrameId: "base_link", Stamp: time.Unix(1, 5).UTC()}}
	m.Pose.Orientation.W = 1
	var b bytes.Buffer
	if err := yaml.NewEncoder(&b).Encode(plain(reflect.ValueOf(m))); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"frame_id: base_link", "stamp: \"1970-01-01T00:00:01.000000005Z\"", "w: 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "package") {
		t.Errorf("marker fields printed:\n%s", out)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"fly"}, {"hz"}, {"hz", "/x", "no/Such"}, {"echo", "--transport", "ros3", "/x", "std_msgs/String"}} {
		var out, errb bytes.Buffer
		if err := run(context.Background(), args, &out, &errb); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
