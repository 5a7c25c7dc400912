package mujoco

import (
	"math"
	"testing"
)

func TestLinearizeDepth(t *testing.T) {
	const near, far = 0.02, 10.0
	// A depth-buffer value d for metric z is d = (1 - n/z) / (1 - n/f); rows
	// come bottom-up and must be flipped.
	enc := func(z float64) float32 { return float32((1 - near/z) / (1 - near/far)) }
	raw := []float32{enc(0.5), enc(1), enc(2), 1} // 2x2: bottom row first
	dst := make([]float32, 4)
	LinearizeDepth(dst, raw, 2, 2, near, far)
	want := []float64{2, math.NaN(), 0.5, 1}
	for i, w := range want {
		if math.IsNaN(w) {
			if !math.IsNaN(float64(dst[i])) {
				t.Errorf("pixel %d: %v, want NaN", i, dst[i])
			}
			continue
		}
		if math.Abs(float64(dst[i])-w) > 1e-4*w {
			t.Errorf("pixel %d: %v, want %v", i, dst[i], w)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	for _, xml := range []string{"", "<mujoco>", "<notmujoco/>", `<mujoco><worldbody><geom type="box"/></worldbody></mujoco>`} {
		if m, err := Load(xml); err == nil {
			m.Close()
			t.Errorf("%q loaded", xml)
		}
	}
	if _, err := NewGL(0, 10); err == nil {
		t.Error("zero-size GL accepted")
	}
}

func TestRenderPlane(t *testing.T) {
	gl, err := NewGL(16, 16)
	if err != nil {
		t.Fatal(err)
	}
	defer gl.Close()
	// A camera 1 m above a plane, looking straight down: every pixel at depth 1.
	m, err := Load(`<mujoco><statistic extent="1"/><visual><global offwidth="16" offheight="16"/><quality offsamples="0"/><map znear="0.01" zfar="10"/></visual>
<worldbody><geom name="floor" type="plane" size="5 5 0.1"/><camera name="down" pos="0 0 1" xyaxes="1 0 0 0 1 0" fovy="60"/></worldbody></mujoco>`)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.EnableRendering(gl, 100); err != nil {
		t.Fatal(err)
	}
	f := NewFrame(16, 16)
	if err := m.Render(0, f, true); err != nil {
		t.Fatal(err)
	}
	for i, z := range f.Depth {
		if math.Abs(float64(z)-1) > 1e-4 || f.Geoms[i] != 0 {
			t.Fatalf("pixel %d: depth %v geom %d", i, z, f.Geoms[i])
		}
	}
	if err := m.Render(3, f, false); err == nil {
		t.Error("bad camera id accepted")
	}
}

func BenchmarkRender128(b *testing.B) {
	gl, err := NewGL(128, 128)
	if err != nil {
		b.Fatal(err)
	}
	defer gl.Close()
	m, err := Load(`<mujoco><visual><global offwidth="128" offheight="128"/><quality shadowsize="0" offsamples="0"/></visual>
<worldbody><light pos="0 0 3"/><geom type="plane" size="5 5 0.1"/><geom type="box" size="0.1 0.1 0.1" pos="0 0 0.1"/><camera name="c" pos="0 -1 1" xyaxes="1 0 0 0 0.7 0.7"/></worldbody></mujoco>`)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	if err := m.EnableRendering(gl, 100); err != nil {
		b.Fatal(err)
	}
	f := NewFrame(128, 128)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := m.Render(0, f, false); err != nil {
			b.Fatal(err)
		}
	}
}

func TestUnstableDetected(t *testing.T) {
	m, err := Load(`<mujoco><worldbody><body><freejoint/><geom type="sphere" size="0.1"/></body></worldbody></mujoco>`)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	m.Step()
	if m.Unstable() != 0 {
		t.Fatal("fresh model reported unstable")
	}
	m.QVel()[0] = math.NaN()
	m.Step()
	if m.Unstable() == 0 {
		t.Fatal("NaN velocity not detected")
	}
	for _, v := range m.QPos() {
		if math.IsNaN(v) {
			t.Fatal("state not reset after divergence")
		}
	}
}
