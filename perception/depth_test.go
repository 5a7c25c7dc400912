package perception

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

func isNaN32(v float32) bool { return v != v }

func TestDecodeDepth16(t *testing.T) {
	// 3x2 image, step 8 (2 bytes padding per row), little endian.
	vals := []uint16{0, 1000, 1500, 65535, 250, 4000}
	data := make([]byte, 8*2)
	for r := range 2 {
		for c := range 3 {
			binary.LittleEndian.PutUint16(data[r*8+2*c:], vals[r*3+c])
		}
	}
	dst := make([]float32, 6)
	if err := DecodeDepth("16UC1", data, 3, 2, 8, false, 0.3, 10, dst); err != nil {
		t.Fatal(err)
	}
	want := []float32{float32(math.NaN()), 1, 1.5, float32(math.NaN()), float32(math.NaN()), 4}
	for i := range want {
		if isNaN32(want[i]) != isNaN32(dst[i]) || (!isNaN32(want[i]) && math.Abs(float64(dst[i]-want[i])) > 1e-6) {
			t.Fatalf("dst[%d] = %v want %v (all %v)", i, dst[i], want[i], dst)
		}
	}
	// Big endian: the same value written big-endian must decode equally.
	be := make([]byte, 4)
	binary.BigEndian.PutUint16(be, 1234)
	binary.BigEndian.PutUint16(be[2:], 700)
	if err := DecodeDepth("mono16", be, 2, 1, 4, true, 0, float32(math.Inf(1)), dst); err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(dst[0])-1.234) > 1e-6 || math.Abs(float64(dst[1])-0.7) > 1e-6 {
		t.Fatalf("big endian: %v", dst[:2])
	}
}

func TestDecodeDepth32F(t *testing.T) {
	in := []float32{0, 1.25, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), -1, 0.1, 2.5}
	for _, bigEndian := range []bool{false, true} {
		var order binary.ByteOrder = binary.LittleEndian
		if bigEndian {
			order = binary.BigEndian
		}
		data := make([]byte, 4*len(in))
		for i, v := range in {
			order.PutUint32(data[4*i:], math.Float32bits(v))
		}
		dst := make([]float32, len(in))
		if err := DecodeDepth("32FC1", data, 4, 2, 16, bigEndian, 0.2, 3, dst); err != nil {
			t.Fatal(err)
		}
		valid := []bool{false, true, false, false, false, false, false, true}
		for i := range in {
			if valid[i] == isNaN32(dst[i]) || (valid[i] && dst[i] != in[i]) {
				t.Fatalf("bigEndian=%v dst[%d] = %v for input %v", bigEndian, i, dst[i], in[i])
			}
		}
	}
}

func TestDecodeDepthErrors(t *testing.T) {
	dst := make([]float32, 4)
	tests := []struct {
		name     string
		enc      string
		data     []byte
		w, h, st int
		min, max float32
		dst      []float32
	}{
		{"unknown encoding", "8UC1", make([]byte, 4), 2, 2, 2, 0, 10, dst},
		{"step too small", "16UC1", make([]byte, 8), 2, 2, 3, 0, 10, dst},
		{"short data", "16UC1", make([]byte, 7), 2, 2, 4, 0, 10, dst},
		{"short dst", "16UC1", make([]byte, 8), 2, 2, 4, 0, 10, dst[:3]},
		{"zero size", "32FC1", nil, 0, 2, 0, 0, 10, dst},
		{"bad range", "32FC1", make([]byte, 16), 2, 2, 8, 5, 1, dst},
		{"NaN range", "32FC1", make([]byte, 16), 2, 2, 8, float32(math.NaN()), 1, dst},
	}
	for _, tc := range tests {
		if err := DecodeDepth(tc.enc, tc.data, tc.w, tc.h, tc.st, false, tc.min, tc.max, tc.dst); !errors.Is(err, ErrBadDepth) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
	// The last row needs no padding.
	if err := DecodeDepth("16UC1", make([]byte, 6+4), 2, 2, 6, false, 0, 10, dst); err != nil {
		t.Errorf("unpadded last row: %v", err)
	}
}

func FuzzDecodeDepth(f *testing.F) {
	f.Add("16UC1", []byte{0xe8, 0x03, 0, 0, 0x10, 0x27, 1, 2}, 2, 2, 4, false)
	f.Add("32FC1", make([]byte, 32), 2, 2, 16, true)
	f.Add("mono16", []byte{1, 2, 3}, 1, 1, 2, false)
	f.Add("32FC1", []byte{0, 0, 0x80, 0x7f}, 1, 1, 4, false)
	f.Fuzz(func(t *testing.T, enc string, data []byte, w, h, step int, be bool) {
		// Bound the destination so a fuzzed size cannot exhaust memory; the
		// decoder must refuse sizes that do not fit.
		const capPix = 1 << 12
		dst := make([]float32, capPix+16)
		for i := range dst {
			dst[i] = -7
		}
		err := DecodeDepth(enc, data, w, h, step, be, 0.1, 20, dst[:capPix])
		for i := capPix; i < len(dst); i++ {
			if dst[i] != -7 {
				t.Fatalf("wrote past dst at %d", i)
			}
		}
		if err != nil {
			return
		}
		for i := range w * h {
			if v := dst[i]; !isNaN32(v) && (v < 0.1 || v > 20) {
				t.Fatalf("dst[%d] = %v outside range and not NaN", i, v)
			}
		}
	})
}

func TestResizeDepthNearest(t *testing.T) {
	nan := float32(math.NaN())
	src := []float32{1, 2, 3, 4, 5, nan, 7, 8}
	dst := make([]float32, 2)
	if err := ResizeDepthNearest(src, 4, 2, dst, 2, 1); err != nil {
		t.Fatal(err)
	}
	// Centre of dst pixel c maps to src column (2c+1)*4/4 = 1, 3 on src row (1*2)/2 = 1.
	if !isNaN32(dst[0]) || dst[1] != 8 {
		t.Fatalf("dst = %v", dst)
	}
	up := make([]float32, 16)
	if err := ResizeDepthNearest([]float32{1, 2, 3, 4}, 2, 2, up, 4, 4); err != nil {
		t.Fatal(err)
	}
	want := []float32{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}
	for i := range want {
		if up[i] != want[i] {
			t.Fatalf("upsample = %v", up)
		}
	}
	if err := ResizeDepthNearest(src, 4, 2, dst[:1], 2, 1); !errors.Is(err, ErrBadDepth) {
		t.Fatalf("short dst err = %v", err)
	}
}

// BenchmarkDecodeDepth16x3 decodes one 3-camera frame of 224x224 16UC1 depth.
func BenchmarkDecodeDepth16x3(b *testing.B) {
	data := make([]byte, 224*224*2)
	for i := range 224 * 224 {
		binary.LittleEndian.PutUint16(data[2*i:], uint16(400+i%3000))
	}
	dst := make([]float32, 224*224)
	b.ReportAllocs()
	b.SetBytes(int64(3 * len(data)))
	for b.Loop() {
		for range 3 {
			if err := DecodeDepth(EncodingDepth16, data, 224, 224, 448, false, 0.1, 10, dst); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// The integer millimetre interval must agree with the float range test on
// every one of the 65,536 codes.
func TestMillimetreRangeExhaustive(t *testing.T) {
	nan := float32(math.NaN())
	ranges := [][2]float32{{0, 10}, {0.3, 3}, {0.1005, 0.2005}, {0.3, 0.3001}, {0, float32(math.Inf(1))}, {65, 70}, {0.001, 0.001 + 1e-7}}
	for _, rg := range ranges {
		r := newMillimetreRange(rg[0], rg[1])
		for v := range math.MaxUint16 + 1 {
			got := r.metres(uint16(v), nan)
			want := validDepth(mmToMetres(uint16(v)), rg[0], rg[1], nan)
			if isNaN32(got) != isNaN32(want) || (!isNaN32(got) && got != want) {
				t.Fatalf("range %v code %d: %v want %v", rg, v, got, want)
			}
		}
	}
}
