package cdr

import (
	"bytes"
	"encoding/binary"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/tf2_msgs"
)

// Hand-laid CDR payloads, byte by byte, as rmw_fastrtps writes them.
func TestDecodeHandLaid(t *testing.T) {
	le := binary.LittleEndian
	// std_msgs/String "hi": len 3 (with NUL), 'h' 'i' 0.
	str := []byte{0, 1, 0, 0, 3, 0, 0, 0, 'h', 'i', 0}
	// geometry_msgs/PoseStamped: stamp (8) + frame_id "b" (4+2=6, pad 2 to 16)
	// + 7 float64 at offset 16.
	ps := []byte{0, 1, 0, 0}
	ps = le.AppendUint32(ps, 10)  // sec
	ps = le.AppendUint32(ps, 500) // nanosec
	ps = le.AppendUint32(ps, 2)
	ps = append(ps, 'b', 0, 0, 0) // string + 2 bytes of alignment padding
	for _, f := range []float64{1, 2, 3, 0, 0, 0, 1} {
		ps = le.AppendUint64(ps, math.Float64bits(f))
	}
	// Big-endian String "x".
	be := []byte{0, 0, 0, 0, 0, 0, 0, 2, 'x', 0}
	cases := []struct {
		name string
		data []byte
		dest any
		want any
	}{
		{"string", str, &std_msgs.String{}, &std_msgs.String{Data: "hi"}},
		{"string BE", be, &std_msgs.String{}, &std_msgs.String{Data: "x"}},
		{"pose stamped", ps, &geometry_msgs.PoseStamped{}, &geometry_msgs.PoseStamped{
			Header: std_msgs.Header{Stamp: time.Unix(10, 500).UTC(), FrameId: "b"},
			Pose:   geometry_msgs.Pose{Position: geometry_msgs.Point{X: 1, Y: 2, Z: 3}, Orientation: geometry_msgs.Quaternion{W: 1}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := Decode(tc.data, tc.dest); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(tc.dest, tc.want) {
				t.Fatalf("got %+v want %+v", tc.dest, tc.want)
			}
		})
	}
	// Encoding the expected values must give the little-endian payloads back.
	for _, tc := range cases[:1] {
		got, err := Encode(tc.want)
		if err != nil || !bytes.Equal(got, tc.data) {
			t.Fatalf("encode %s: %v % x", tc.name, err, got)
		}
	}
	got, err := Encode(cases[2].want)
	if err != nil || !bytes.Equal(got, ps) {
		t.Fatalf("encode pose: %v\n% x\n% x", err, got, ps)
	}
}

// Round trip is the identity for the message types the pipeline reads.
func TestRoundTrip(t *testing.T) {
	stamp := time.Unix(1700000000, 42).UTC()
	msgs := []any{
		&sensor_msgs.Image{Header: std_msgs.Header{Stamp: stamp, FrameId: "cam"}, Height: 2, Width: 2,
			Encoding: "16UC1", Step: 4, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		&sensor_msgs.CameraInfo{Header: std_msgs.Header{Stamp: stamp, FrameId: "cam"}, Height: 480, Width: 640,
			DistortionModel: "plumb_bob", D: []float64{0.1, 0, 0, 0, 0}, K: [9]float64{500, 0, 320, 0, 500, 240, 0, 0, 1}},
		&std_msgs.Float32MultiArray{Layout: std_msgs.MultiArrayLayout{Dim: []std_msgs.MultiArrayDimension{{Label: "a", Size: 7, Stride: 7}}},
			Data: []float32{1, 2, 3, 4, 5, 6, 7}},
		&tf2_msgs.TFMessage{Transforms: []geometry_msgs.TransformStamped{{Header: std_msgs.Header{Stamp: stamp, FrameId: "base"},
			ChildFrameId: "cam", Transform: geometry_msgs.Transform{Rotation: geometry_msgs.Quaternion{W: 1}}}}},
	}
	for _, m := range msgs {
		b, err := Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		out := reflect.New(reflect.TypeOf(m).Elem()).Interface()
		if err := Decode(b, out); err != nil {
			t.Fatalf("%T: %v", m, err)
		}
		if !reflect.DeepEqual(out, m) {
			t.Fatalf("%T: got %+v want %+v", m, out, m)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"bad encapsulation", []byte{0, 3, 0, 0, 1, 0, 0, 0, 0}},
		{"short string", []byte{0, 1, 0, 0, 9, 0, 0, 0, 'a'}},
		{"huge length", []byte{0, 1, 0, 0, 255, 255, 255, 255}},
		{"trailing bytes", []byte{0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}},
	}
	for _, tc := range cases {
		var s std_msgs.String
		if err := Decode(tc.data, &s); err == nil {
			t.Errorf("%s: expected an error", tc.name)
		}
	}
}

func FuzzDecode(f *testing.F) {
	b, _ := Encode(&sensor_msgs.CameraInfo{D: []float64{1, 2}, DistortionModel: "plumb_bob"})
	f.Add(b)
	f.Add([]byte{0, 1, 0, 0, 3, 0, 0, 0, 'h', 'i', 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var ci sensor_msgs.CameraInfo
		_ = Decode(data, &ci)
		var img sensor_msgs.Image
		_ = Decode(data, &img)
		var tf tf2_msgs.TFMessage
		_ = Decode(data, &tf)
	})
}
