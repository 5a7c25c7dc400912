package rosconv

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"

	"github.com/vla3d/vla3d/msgs"
)

// A 2x2 image with a padded step: pixels (r,g,b) = (10*i+1, 10*i+2, 10*i+3).
func TestDecodeColorEncodings(t *testing.T) {
	want := []uint8{1, 2, 3, 11, 12, 13, 21, 22, 23, 31, 32, 33}
	tests := []struct {
		enc  string
		step uint32
		data []uint8
		want []uint8
	}{
		{EncRGB8, 7, []uint8{1, 2, 3, 11, 12, 13, 99, 21, 22, 23, 31, 32, 33, 99}, want},
		{EncBGR8, 6, []uint8{3, 2, 1, 13, 12, 11, 23, 22, 21, 33, 32, 31}, want},
		{EncRGBA8, 9, []uint8{1, 2, 3, 0, 11, 12, 13, 0, 7, 21, 22, 23, 0, 31, 32, 33, 0}, want},
		{EncBGRA8, 8, []uint8{3, 2, 1, 0, 13, 12, 11, 0, 23, 22, 21, 0, 33, 32, 31, 0}, want},
		{EncMono8, 3, []uint8{5, 6, 0, 7, 8}, []uint8{5, 5, 5, 6, 6, 6, 7, 7, 7, 8, 8, 8}},
	}
	for _, tc := range tests {
		t.Run(tc.enc, func(t *testing.T) {
			m := &sensor_msgs.Image{Width: 2, Height: 2, Encoding: tc.enc, Step: tc.step, Data: tc.data}
			var dst msgs.RGBImage
			if err := DecodeColor(m, &dst); err != nil {
				t.Fatal(err)
			}
			if dst.Width != 2 || dst.Height != 2 || string(dst.Pix) != string(tc.want) {
				t.Fatalf("got %dx%d %v, want %v", dst.Width, dst.Height, dst.Pix, tc.want)
			}
		})
	}
}

func TestDecodeColorErrors(t *testing.T) {
	tests := []struct {
		name string
		m    sensor_msgs.Image
	}{
		{"unknown encoding", sensor_msgs.Image{Width: 1, Height: 1, Step: 3, Encoding: "yuv422", Data: make([]byte, 3)}},
		{"short step", sensor_msgs.Image{Width: 2, Height: 1, Step: 5, Encoding: EncRGB8, Data: make([]byte, 6)}},
		{"short data", sensor_msgs.Image{Width: 2, Height: 2, Step: 6, Encoding: EncRGB8, Data: make([]byte, 11)}},
		{"zero size", sensor_msgs.Image{Width: 0, Height: 2, Step: 6, Encoding: EncRGB8}},
		{"huge size", sensor_msgs.Image{Width: 1 << 20, Height: 1 << 20, Step: 3 << 20, Encoding: EncRGB8}},
	}
	for _, tc := range tests {
		var dst msgs.RGBImage
		if err := DecodeColor(&tc.m, &dst); !errors.Is(err, ErrImage) {
			t.Errorf("%s: got %v, want ErrImage", tc.name, err)
		}
	}
}

func TestDecodeDepth(t *testing.T) {
	be := make([]byte, 4)
	binary.BigEndian.PutUint16(be[0:], 1500)
	binary.BigEndian.PutUint16(be[2:], 0)
	le32 := make([]byte, 12) // 2 px + 4 bytes padding
	binary.LittleEndian.PutUint32(le32[0:], math.Float32bits(0.75))
	binary.LittleEndian.PutUint32(le32[4:], math.Float32bits(float32(math.Inf(1))))
	tests := []struct {
		name string
		m    sensor_msgs.Image
		want []float64 // NaN = invalid
	}{
		{"16UC1 big endian mm", sensor_msgs.Image{Width: 2, Height: 1, Step: 4, Encoding: Enc16UC1, IsBigendian: 1, Data: be}, []float64{1.5, math.NaN()}},
		{"32FC1 padded step", sensor_msgs.Image{Width: 2, Height: 1, Step: 12, Encoding: Enc32FC1, Data: le32}, []float64{0.75, math.NaN()}},
	}
	for _, tc := range tests {
		var dst msgs.DepthImage
		if err := DecodeDepth(&tc.m, 0.1, 10, &dst); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for i, w := range tc.want {
			g := float64(dst.Meters[i])
			if math.IsNaN(w) != math.IsNaN(g) || (!math.IsNaN(w) && math.Abs(g-w) > 1e-6) {
				t.Errorf("%s: pixel %d = %v, want %v", tc.name, i, g, w)
			}
		}
	}
	var dst msgs.DepthImage
	if err := DecodeDepth(&sensor_msgs.Image{Width: 1, Height: 1, Step: 1, Encoding: EncMono8, Data: []byte{1}}, 0, 1, &dst); !errors.Is(err, ErrImage) {
		t.Errorf("mono8 as depth: got %v, want ErrImage", err)
	}
}

// Round trip: encode then decode gives back the source for every encoding.
func TestColorRoundTrip(t *testing.T) {
	src := msgs.RGBImage{Width: 3, Height: 2, Pix: []uint8{9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 10, 20, 30, 40, 50, 60, 70, 80}}
	for _, enc := range []string{EncRGB8, EncBGR8, EncRGBA8, EncBGRA8} {
		var m sensor_msgs.Image
		if err := EncodeColor(&src, enc, &m); err != nil {
			t.Fatal(err)
		}
		var back msgs.RGBImage
		if err := DecodeColor(&m, &back); err != nil {
			t.Fatal(err)
		}
		if string(back.Pix) != string(src.Pix) {
			t.Errorf("%s: round trip %v != %v", enc, back.Pix, src.Pix)
		}
	}
	var m sensor_msgs.Image
	gray := msgs.RGBImage{Width: 1, Height: 1, Pix: []uint8{255, 0, 0}}
	if err := EncodeColor(&gray, EncMono8, &m); err != nil || m.Data[0] != 76 { // round(0.299*255)
		t.Errorf("mono8 luma of red = %v (%v), want 76", m.Data, err)
	}
}

func TestDepthRoundTrip(t *testing.T) {
	nan := float32(math.NaN())
	src := msgs.DepthImage{Width: 2, Height: 2, Meters: []float32{0.5, nan, 1.234, 3}}
	for _, enc := range []string{Enc16UC1, Enc32FC1} {
		var m sensor_msgs.Image
		if err := EncodeDepth(&src, enc, &m); err != nil {
			t.Fatal(err)
		}
		var back msgs.DepthImage
		if err := DecodeDepth(&m, 0.01, 100, &back); err != nil {
			t.Fatal(err)
		}
		for i, w := range src.Meters {
			g := back.Meters[i]
			if math.IsNaN(float64(w)) != math.IsNaN(float64(g)) || (!math.IsNaN(float64(w)) && math.Abs(float64(g-w)) > 0.0005) {
				t.Errorf("%s: pixel %d = %v, want %v", enc, i, g, w)
			}
		}
	}
}

func TestDecodeReusesBuffers(t *testing.T) {
	var src msgs.RGBImage
	src.Width, src.Height, src.Pix = 64, 48, make([]uint8, 64*48*3)
	var m sensor_msgs.Image
	if err := EncodeColor(&src, EncBGRA8, &m); err != nil {
		t.Fatal(err)
	}
	var dst msgs.RGBImage
	_ = DecodeColor(&m, &dst)
	if n := testing.AllocsPerRun(20, func() { _ = DecodeColor(&m, &dst) }); n != 0 {
		t.Errorf("DecodeColor allocates %v per call with a sized destination", n)
	}
}

// FuzzDecodeImage feeds arbitrary headers and payloads: decoding must never
// panic, and on success the output must have the declared size.
func FuzzDecodeImage(f *testing.F) {
	f.Add(uint32(2), uint32(2), uint32(6), "rgb8", uint8(0), make([]byte, 12))
	f.Add(uint32(2), uint32(1), uint32(4), "16UC1", uint8(1), []byte{1, 2, 3, 4})
	f.Add(uint32(1), uint32(1), uint32(4), "32FC1", uint8(0), []byte{0, 0, 128, 63})
	f.Add(uint32(3), uint32(2), uint32(13), "bgra8", uint8(0), make([]byte, 25))
	f.Add(uint32(1), uint32(3), uint32(1), "mono8", uint8(0), []byte{1, 2})
	f.Fuzz(func(t *testing.T, w, h, step uint32, enc string, be uint8, data []byte) {
		m := &sensor_msgs.Image{Width: w, Height: h, Step: step, Encoding: enc, IsBigendian: be, Data: data}
		var rgb msgs.RGBImage
		if err := DecodeColor(m, &rgb); err == nil && len(rgb.Pix) != int(w)*int(h)*3 {
			t.Fatalf("colour %dx%d decoded into %d bytes", w, h, len(rgb.Pix))
		}
		var d msgs.DepthImage
		if err := DecodeDepth(m, 0.1, 10, &d); err == nil {
			if len(d.Meters) != int(w)*int(h) {
				t.Fatalf("depth %dx%d decoded into %d values", w, h, len(d.Meters))
			}
			for _, z := range d.Meters {
				if !(math.IsNaN(float64(z)) || (z >= 0.1 && z <= 10)) {
					t.Fatalf("depth %v outside [0.1, 10] and not NaN", z)
				}
			}
		}
	})
}

func BenchmarkDecodeColorBGR224(b *testing.B) {
	src := msgs.RGBImage{Width: 224, Height: 224, Pix: make([]uint8, 224*224*3)}
	var m sensor_msgs.Image
	if err := EncodeColor(&src, EncBGR8, &m); err != nil {
		b.Fatal(err)
	}
	var dst msgs.RGBImage
	b.ReportAllocs()
	b.SetBytes(int64(len(m.Data)))
	for b.Loop() {
		if err := DecodeColor(&m, &dst); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeDepth16UC1_224(b *testing.B) {
	src := msgs.DepthImage{Width: 224, Height: 224, Meters: make([]float32, 224*224)}
	for i := range src.Meters {
		src.Meters[i] = 1
	}
	var m sensor_msgs.Image
	if err := EncodeDepth(&src, Enc16UC1, &m); err != nil {
		b.Fatal(err)
	}
	var dst msgs.DepthImage
	b.ReportAllocs()
	b.SetBytes(int64(len(m.Data)))
	for b.Loop() {
		if err := DecodeDepth(&m, 0.1, 10, &dst); err != nil {
			b.Fatal(err)
		}
	}
}
