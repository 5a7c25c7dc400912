package cli

import (
	"reflect"
	"testing"
)

func TestSplitROS2Args(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want ROS2Args
		rest []string
	}{
		{[]string{"--model", "m.onnx"}, ROS2Args{}, []string{"--model", "m.onnx"}},
		{ // what ros2 launch passes
			[]string{"--model", "m.onnx", "--ros-args", "-r", "__node:=vla3d_node", "-r", "__ns:=/robot", "--params-file", "/tmp/p.yaml"},
			ROS2Args{Node: "vla3d_node", Namespace: "/robot", ParamsFiles: []string{"/tmp/p.yaml"}, Seen: true},
			[]string{"--model", "m.onnx"},
		},
		{
			[]string{"--ros-args", "-p", "control_hz:=15", "--remap", "/ee_pose:=/robot/ee_pose", "--log-level", "debug", "--", "--check"},
			ROS2Args{Params: [][2]string{{"control_hz", "15"}}, Remaps: map[string]string{"/ee_pose": "/robot/ee_pose"}, LogLevel: "debug", Seen: true},
			[]string{"--check"},
		},
	} {
		got, rest, err := SplitROS2Args(tc.args)
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) || !reflect.DeepEqual(rest, tc.rest) {
			t.Errorf("%v:\n got %+v %v\nwant %+v %v", tc.args, got, rest, tc.want, tc.rest)
		}
	}
	for _, bad := range [][]string{
		{"--ros-args", "-r"}, {"--ros-args", "-r", "nocolon"}, {"--ros-args", "-p", "x"}, {"--ros-args", "--bogus"},
		{"--ros-args", "-r", "__node:=a/b"},
	} {
		if _, _, err := SplitROS2Args(bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
