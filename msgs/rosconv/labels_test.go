package rosconv

import (
	"reflect"
	"testing"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"

	"github.com/vla3d/vla3d/msgs"
)

func TestLabelsRoundTrip(t *testing.T) {
	src := msgs.LabelImage{Width: 3, Height: 2, IDs: []uint16{0, 1, 100, 258, 65535, 7}}
	var m sensor_msgs.Image
	if err := EncodeLabels(&src, &m); err != nil {
		t.Fatal(err)
	}
	if m.Encoding != Mono16 || m.Step != 6 || len(m.Data) != 12 || m.Data[6] != 2 || m.Data[7] != 1 {
		t.Fatalf("encoded %+v", m)
	}
	var dst msgs.LabelImage
	if err := DecodeLabels(&m, &dst); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(src, dst) {
		t.Fatalf("round trip %v != %v", dst, src)
	}
}

func TestDecodeLabelsLayouts(t *testing.T) {
	cases := []struct {
		name string
		img  sensor_msgs.Image
		want []uint16
		ok   bool
	}{
		{"big endian, padded rows", sensor_msgs.Image{Width: 1, Height: 2, Encoding: Mono16, IsBigendian: 1, Step: 4, Data: []uint8{1, 2, 9, 9, 0, 5, 9, 9}}, []uint16{258, 5}, true},
		{"16UC1 little endian", sensor_msgs.Image{Width: 2, Height: 1, Encoding: "16UC1", Step: 4, Data: []uint8{1, 2, 3, 0}}, []uint16{513, 3}, true},
		{"wrong encoding", sensor_msgs.Image{Width: 1, Height: 1, Encoding: "mono8", Step: 1, Data: []uint8{1}}, nil, false},
		{"short data", sensor_msgs.Image{Width: 2, Height: 2, Encoding: Mono16, Step: 4, Data: []uint8{1, 2, 3}}, nil, false},
		{"step too small", sensor_msgs.Image{Width: 2, Height: 1, Encoding: Mono16, Step: 3, Data: []uint8{1, 2, 3, 4}}, nil, false},
	}
	for _, tc := range cases {
		var dst msgs.LabelImage
		err := DecodeLabels(&tc.img, &dst)
		if (err == nil) != tc.ok {
			t.Fatalf("%s: err = %v", tc.name, err)
		}
		if tc.ok && !reflect.DeepEqual(dst.IDs, tc.want) {
			t.Errorf("%s: ids %v, want %v", tc.name, dst.IDs, tc.want)
		}
	}
}

func FuzzDecodeLabels(f *testing.F) {
	f.Add(uint32(2), uint32(2), uint32(4), uint8(0), []byte{1, 0, 2, 0, 3, 0, 4, 0})
	f.Add(uint32(1<<20), uint32(1<<20), uint32(2), uint8(1), []byte{})
	f.Add(uint32(3), uint32(1), uint32(1), uint8(0), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, w, h, step uint32, be uint8, data []byte) {
		m := sensor_msgs.Image{Width: w, Height: h, Step: step, IsBigendian: be, Encoding: Mono16, Data: data}
		var dst msgs.LabelImage
		if err := DecodeLabels(&m, &dst); err == nil && len(dst.IDs) != int(w)*int(h) {
			t.Fatalf("decoded %d ids for %dx%d", len(dst.IDs), w, h)
		}
	})
}
