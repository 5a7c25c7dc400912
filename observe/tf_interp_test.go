package observe

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/msgs/rosconv"
	"github.com/vla3d/vla3d/perception"
)

var (
	qID   = [4]float64{0, 0, 0, 1}
	qRz90 = [4]float64{0, 0, math.Sqrt(0.5), math.Sqrt(0.5)}
)

// sec is a stamp s seconds after an arbitrary epoch well inside int64 ns.
func sec(s float64) time.Time {
	return time.Unix(1_700_000_000, 0).Add(time.Duration(s * float64(time.Second)))
}

func newTestTF(t testing.TB, mutate func(*TFConfig)) *TFBuffer {
	t.Helper()
	c := DefaultTFConfig()
	if mutate != nil {
		mutate(&c)
	}
	b, err := NewTFBufferConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func setTF(t testing.TB, b *TFBuffer, parent, child string, stamp time.Time, tr [3]float64, q [4]float64, static bool) {
	t.Helper()
	e := rosconv.StampedTransform{Stamp: stamp, Parent: parent, Child: child, Transform: msgs.Transform{Translation: tr, Rotation: q}}
	if err := b.Set(e, static, stamp); err != nil {
		t.Fatal(err)
	}
}

func near3(a, b [3]float64, tol float64) bool {
	for i := range 3 {
		if !(math.Abs(a[i]-b[i]) <= tol) {
			return false
		}
	}
	return true
}

// quatNear compares rotations (q and -q are the same rotation).
func quatNear(a, b [4]float64, tol float64) bool {
	return perception.QuatFromArray(a).Normalize().Angle(perception.QuatFromArray(b)) <= tol
}

func rz(deg float64) [4]float64 {
	h := deg * math.Pi / 360
	return [4]float64{0, 0, math.Sin(h), math.Cos(h)}
}

func TestTFInterpolationTable(t *testing.T) {
	b := newTestTF(t, nil)
	// base -> link: identity at 0 s, yaw 90° and (2, 4, -6) at 1 s.
	setTF(t, b, "base", "link", sec(0), [3]float64{}, qID, false)
	setTF(t, b, "base", "link", sec(1), [3]float64{2, 4, -6}, qRz90, false)
	for _, tc := range []struct {
		name string
		at   float64
		t    [3]float64
		q    [4]float64
	}{
		{"first sample", 0, [3]float64{0, 0, 0}, qID},
		{"quarter", 0.25, [3]float64{0.5, 1, -1.5}, rz(22.5)},
		{"halfway: translation halfway, 90° slerp gives 45°", 0.5, [3]float64{1, 2, -3}, [4]float64{0, 0, 0.38268343236508984, 0.9238795325112867}},
		{"three quarters", 0.75, [3]float64{1.5, 3, -4.5}, rz(67.5)},
		{"last sample", 1, [3]float64{2, 4, -6}, qRz90},
		{"within tolerance after the newest holds it", 1.04, [3]float64{2, 4, -6}, qRz90},
		{"within tolerance before the oldest holds it", -0.04, [3]float64{0, 0, 0}, qID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _, err := b.LookupAt("base", "link", sec(tc.at))
			if err != nil {
				t.Fatal(err)
			}
			if !near3(r.T, tc.t, 1e-9) || !quatNear(r.Quaternion(), tc.q, 1e-9) {
				t.Errorf("at %v: T %v q %v, want %v %v", tc.at, r.T, r.Quaternion(), tc.t, tc.q)
			}
		})
	}
	// The halfway rotation applied to x: (cos 45°, sin 45°, 0) + T.
	r, _, _ := b.LookupAt("base", "link", sec(0.5))
	if p := r.Apply([3]float64{1, 0, 0}); !near3(p, [3]float64{1 + math.Sqrt(0.5), 2 + math.Sqrt(0.5), -3}, 1e-9) {
		t.Errorf("halfway maps x to %v", p)
	}
}

// Slerp law: the interpolated rotation lies on the geodesic, at fraction r
// of the angle from a and 1-r from b.
func TestTFInterpolationGeodesicProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		a := quatNormalize([4]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()})
		q := quatNormalize([4]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()})
		r := rng.Float64()
		sa, sb := tfSample{stamp: 0, q: a}, tfSample{stamp: 1000, q: q}
		m := interpolate(&sa, &sb, int64(r*1000))
		rr := float64(int64(r*1000)) / 1000
		full := quatAngle(a, q)
		if d := quatAngle(a, m.q) - rr*full; math.Abs(d) > 1e-7 {
			t.Fatalf("angle(a, m) off the geodesic by %v (r %v, full %v)", d, rr, full)
		}
		if d := quatAngle(m.q, q) - (1-rr)*full; math.Abs(d) > 1e-7 {
			t.Fatalf("angle(m, b) off the geodesic by %v", d)
		}
	}
}

func TestTFStaticAndDynamicChain(t *testing.T) {
	b := newTestTF(t, nil)
	// base -(static)-> shoulder -(moving)-> wrist -(static)-> cam, and a
	// static side camera: base -(static)-> side.
	setTF(t, b, "base", "shoulder", time.Time{}, [3]float64{0, 0, 1}, qID, true)
	setTF(t, b, "shoulder", "wrist", sec(10), [3]float64{1, 0, 0}, qID, false)
	setTF(t, b, "shoulder", "wrist", sec(11), [3]float64{1, 0, 0}, qRz90, false)
	setTF(t, b, "wrist", "cam", time.Time{}, [3]float64{0.1, 0, 0}, qID, true)
	setTF(t, b, "base", "side", time.Time{}, [3]float64{0, -1, 0}, qID, true)
	// At 10.5 s the wrist is yawed 45°: cam origin = (0,0,1) + (1,0,0) + Rz45 (0.1,0,0).
	c, h := math.Sqrt(0.5), 0.1*math.Sqrt(0.5)
	for _, tc := range []struct {
		name           string
		target, source string
		at             float64
		p, want        [3]float64
		static         bool
	}{
		{"cam origin in base", "base", "cam", 10.5, [3]float64{}, [3]float64{1 + h, h, 1}, false},
		{"cam x axis in base", "base", "cam", 10.5, [3]float64{1, 0, 0}, [3]float64{1 + h + c, h + c, 1}, false},
		{"inverse: base origin in cam", "cam", "base", 10, [3]float64{}, [3]float64{-1.1, 0, -1}, false},
		{"through the root: cam origin in side", "side", "cam", 11, [3]float64{}, [3]float64{1, 1.1, 1}, false},
		{"static only, any time", "base", "side", -1e6, [3]float64{}, [3]float64{0, -1, 0}, true},
		{"static leaf to its parent, any time", "wrist", "cam", 1e6, [3]float64{}, [3]float64{0.1, 0, 0}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, oldest, err := b.LookupAt(tc.target, tc.source, sec(tc.at))
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Apply(tc.p); !near3(got, tc.want, 1e-9) {
				t.Errorf("%s_from_%s(%v) = %v, want %v", tc.target, tc.source, tc.p, got, tc.want)
			}
			if oldest.IsZero() != tc.static {
				t.Errorf("oldest moving receive time %v, static chain %v", oldest, tc.static)
			}
		})
	}
	// The moving edge has data in [10, 11] s only.
	if _, _, err := b.LookupAt("base", "cam", sec(12)); !errors.Is(err, ErrExtrapolation) {
		t.Errorf("lookup past the moving edge: %v", err)
	}
}

func TestTFLatestCommonTime(t *testing.T) {
	b := newTestTF(t, nil)
	// Two moving edges: a's newest at 2 s, b's at 3 s; the zero-time lookup
	// evaluates both at 2 s (tf2's latest common time).
	for _, s := range []float64{0, 1, 2} {
		setTF(t, b, "root", "a", sec(s), [3]float64{s, 0, 0}, qID, false)
	}
	for _, s := range []float64{1, 3} {
		setTF(t, b, "a", "b", sec(s), [3]float64{0, s, 0}, qID, false)
	}
	setTF(t, b, "b", "c", time.Time{}, [3]float64{0, 0, 5}, qID, true)
	r, _, err := b.Lookup("root", "c")
	if err != nil {
		t.Fatal(err)
	}
	if want := [3]float64{2, 2, 5}; !near3(r.T, want, 1e-9) {
		t.Errorf("latest common lookup T %v, want %v", r.T, want)
	}
}

func TestTFOutOfOrderInserts(t *testing.T) {
	ordered, shuffled := newTestTF(t, nil), newTestTF(t, nil)
	stamps := []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7}
	for _, s := range stamps {
		setTF(t, ordered, "p", "c", sec(s), [3]float64{s, -s, 2 * s}, rz(100*s), false)
	}
	for _, k := range []int{3, 7, 0, 5, 1, 6, 2, 4} {
		s := stamps[k]
		setTF(t, shuffled, "p", "c", sec(s), [3]float64{s, -s, 2 * s}, rz(100*s), false)
	}
	for _, at := range []float64{0, 0.05, 0.33, 0.5, 0.69, 0.7} {
		a, _, err1 := ordered.LookupAt("p", "c", sec(at))
		c, _, err2 := shuffled.LookupAt("p", "c", sec(at))
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if !near3(a.T, c.T, 1e-12) || !quatNear(a.Quaternion(), c.Quaternion(), 1e-9) || !near3(a.T, [3]float64{at, -at, 2 * at}, 1e-9) {
			t.Errorf("at %v: ordered %v, shuffled %v", at, a.T, c.T)
		}
	}
	// An equal stamp replaces the sample.
	setTF(t, shuffled, "p", "c", sec(0.3), [3]float64{9, 9, 9}, qID, false)
	if r, _, _ := shuffled.LookupAt("p", "c", sec(0.3)); r.T != [3]float64{9, 9, 9} {
		t.Errorf("duplicate stamp kept the old sample: %v", r.T)
	}
	if n := shuffled.edges["c"].cache.n; n != len(stamps) {
		t.Errorf("%d samples after a duplicate, want %d", n, len(stamps))
	}
}

func TestTFExtrapolationErrors(t *testing.T) {
	b := newTestTF(t, func(c *TFConfig) { c.ExtrapolationTolerance.Duration = 50 * time.Millisecond })
	setTF(t, b, "base", "arm", sec(1), [3]float64{}, qID, false)
	setTF(t, b, "base", "arm", sec(2), [3]float64{1, 0, 0}, qID, false)
	single := newTestTF(t, func(c *TFConfig) { c.ExtrapolationTolerance.Duration = 0 })
	setTF(t, single, "base", "arm", sec(1), [3]float64{}, qID, false)
	for _, tc := range []struct {
		name   string
		b      *TFBuffer
		at     float64
		fail   bool
		future bool
	}{
		{"inside", b, 1.5, false, false},
		{"future within tolerance", b, 2.049, false, false},
		{"future beyond tolerance", b, 2.051, true, true},
		{"past within tolerance", b, 0.951, false, false},
		{"past beyond tolerance", b, 0.949, true, false},
		{"single sample, exact stamp", single, 1, false, false},
		{"single sample, zero tolerance, later", single, 1.001, true, true},
		{"single sample, zero tolerance, earlier", single, 0.999, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := tc.b.LookupAt("base", "arm", sec(tc.at))
			if (err != nil) != tc.fail {
				t.Fatalf("err %v, want failure %v", err, tc.fail)
			}
			if !tc.fail {
				return
			}
			var ee *ExtrapolationError
			if !errors.As(err, &ee) || !errors.Is(err, ErrExtrapolation) || !errors.Is(err, ErrNoTransform) {
				t.Fatalf("error %v is not an ExtrapolationError matching ErrExtrapolation and ErrNoTransform", err)
			}
			if ee.Future() != tc.future || ee.Parent != "base" || ee.Child != "arm" || !ee.Requested.Equal(sec(tc.at)) {
				t.Errorf("%+v, want future %v", ee, tc.future)
			}
			t.Log(err)
		})
	}
}

func TestTFRingWrap(t *testing.T) {
	b := newTestTF(t, func(c *TFConfig) { c.MaxSamples, c.CacheTime.Duration = 4, time.Hour })
	for i := range 10 {
		s := float64(i)
		setTF(t, b, "p", "c", sec(s), [3]float64{s, 0, 0}, qID, false)
	}
	c := &b.edges["c"].cache
	if len(c.buf) != 4 || c.n != 4 {
		t.Fatalf("ring len %d, %d samples; want 4, 4", len(c.buf), c.n)
	}
	if c.head == 0 {
		t.Error("ring never wrapped")
	}
	for i := range 4 {
		if got, want := c.at(i).stamp, stampNS(sec(float64(6+i))); got != want {
			t.Errorf("sample %d stamp %d, want %d", i, got, want)
		}
	}
	if r, _, err := b.LookupAt("p", "c", sec(7.5)); err != nil || math.Abs(r.T[0]-7.5) > 1e-9 {
		t.Errorf("across the wrap: %v %v", r.T, err)
	}
	if _, _, err := b.LookupAt("p", "c", sec(5)); !errors.Is(err, ErrExtrapolation) {
		t.Errorf("dropped sample still answers: %v", err)
	}
	// An out-of-order sample into a full ring displaces the oldest.
	setTF(t, b, "p", "c", sec(6.5), [3]float64{100, 0, 0}, qID, false)
	if got := c.at(0).stamp; got != stampNS(sec(6.5)) {
		t.Errorf("oldest after a late insert %d", got)
	}
	// Older than all kept and the ring full: dropped, no error (within cache_time).
	setTF(t, b, "p", "c", sec(0), [3]float64{}, qID, false)
	if c.n != 4 || c.at(0).stamp != stampNS(sec(6.5)) {
		t.Errorf("a too-old sample entered a full ring")
	}
}

func TestTFCacheExpiry(t *testing.T) {
	b := newTestTF(t, func(c *TFConfig) { c.CacheTime.Duration, c.ExtrapolationTolerance.Duration = 2*time.Second, 0 })
	for i := range 6 {
		setTF(t, b, "p", "c", sec(float64(i)), [3]float64{float64(i), 0, 0}, qID, false)
	}
	c := &b.edges["c"].cache
	if c.n != 3 || c.oldest() != stampNS(sec(3)) {
		t.Errorf("%d samples, oldest %d: want 3 samples from 3 s (5 s - 2 s)", c.n, c.oldest())
	}
	if _, _, err := b.LookupAt("p", "c", sec(2.5)); !errors.Is(err, ErrExtrapolation) {
		t.Errorf("expired time answered: %v", err)
	}
	e := rosconv.StampedTransform{Stamp: sec(2.9), Parent: "p", Child: "c", Transform: msgs.Transform{Rotation: qID}}
	if err := b.Set(e, false, sec(6)); !errors.Is(err, ErrOldTFData) {
		t.Errorf("sample older than the cache accepted: %v", err)
	}
	// A late sample still inside the window is kept.
	e.Stamp = sec(3.5)
	if err := b.Set(e, false, sec(6)); err != nil || c.n != 4 {
		t.Errorf("late in-window sample: %v, %d samples", err, c.n)
	}
}

func TestTFReparentAndStaticSwitch(t *testing.T) {
	b := newTestTF(t, nil)
	setTF(t, b, "a", "c", sec(1), [3]float64{1, 0, 0}, qID, false)
	setTF(t, b, "a", "c", sec(2), [3]float64{2, 0, 0}, qID, false)
	setTF(t, b, "b", "c", sec(3), [3]float64{3, 0, 0}, qID, false)
	if _, _, err := b.LookupAt("a", "c", sec(1.5)); !errors.Is(err, ErrNoTransform) {
		t.Errorf("old parent still connected: %v", err)
	}
	if n := b.edges["c"].cache.n; n != 1 {
		t.Errorf("reparented edge kept %d samples", n)
	}
	setTF(t, b, "b", "c", sec(0), [3]float64{7, 0, 0}, qID, true)
	if r, oldest, err := b.LookupAt("b", "c", sec(100)); err != nil || r.T[0] != 7 || !oldest.IsZero() {
		t.Errorf("static replacement: %v %v %v", r.T, oldest, err)
	}
}

func TestTFConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  func(*TFConfig)
		ok   bool
	}{
		{"defaults", func(*TFConfig) {}, true},
		{"zero cache", func(c *TFConfig) { c.CacheTime.Duration = 0 }, false},
		{"negative tolerance", func(c *TFConfig) { c.ExtrapolationTolerance.Duration = -1 }, false},
		{"one sample", func(c *TFConfig) { c.MaxSamples = 1 }, false},
		{"huge ring", func(c *TFConfig) { c.MaxSamples = 1 << 30 }, false},
	} {
		c := DefaultTFConfig()
		tc.mut(&c)
		if err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
		if _, err := NewTFBufferConfig(c); (err == nil) != tc.ok {
			t.Errorf("%s: NewTFBufferConfig %v", tc.name, err)
		}
	}
}

// threeEdgeChain is a wrist-camera tree at 100 Hz for span seconds:
// base -(static)-> shoulder -(moving)-> wrist -(moving)-> cam.
func threeEdgeChain(t testing.TB, span float64, mutate func(*TFConfig)) *TFBuffer {
	b := newTestTF(t, mutate)
	setTF(t, b, "base", "shoulder", time.Time{}, [3]float64{0, 0, 0.5}, qID, true)
	for i := range int(span * 100) {
		s := float64(i) / 100
		setTF(t, b, "shoulder", "wrist", sec(s), [3]float64{0.3, 0, 0.2 * math.Sin(s)}, rz(30*s), false)
		setTF(t, b, "wrist", "cam", sec(s), [3]float64{0.05, 0, 0}, quatFromRPY(0.1*s, 0, 0), false)
	}
	return b
}

func TestTFZeroAllocSteadyState(t *testing.T) {
	// A ring at its cap (64 samples < 2 s at 100 Hz): inserts overwrite.
	b := threeEdgeChain(t, 2, func(c *TFConfig) { c.MaxSamples = 64 })
	at := sec(1.734)
	if n := testing.AllocsPerRun(100, func() {
		if _, _, err := b.LookupAt("base", "cam", at); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("LookupAt allocates %v per call", n)
	}
	e := rosconv.StampedTransform{Parent: "shoulder", Child: "wrist", Transform: msgs.Transform{Rotation: qID}}
	s := 2.0
	if n := testing.AllocsPerRun(100, func() {
		e.Stamp = sec(s)
		s += 0.01
		if err := b.Set(e, false, e.Stamp); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Set allocates %v per call in steady state", n)
	}
	if c := &b.edges["wrist"].cache; len(c.buf) != 64 || c.n != 64 {
		t.Errorf("ring %d/%d, want 64 full", c.n, len(c.buf))
	}
}

func BenchmarkTFLookup3EdgeChain(b *testing.B) {
	buf := threeEdgeChain(b, 10, nil)
	at := sec(5.005) // between samples: both moving edges interpolate
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := buf.LookupAt("base", "cam", at); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTFSetMoving(b *testing.B) {
	buf := threeEdgeChain(b, 10, nil)
	e := rosconv.StampedTransform{Parent: "shoulder", Child: "wrist", Transform: msgs.Transform{Rotation: qID}}
	s := 10.0
	b.ReportAllocs()
	for b.Loop() {
		e.Stamp = sec(s)
		s += 0.01
		if err := buf.Set(e, false, e.Stamp); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzTFBuffer drives random insert/lookup sequences: never a panic, and
// every successful lookup is a finite proper rotation.
func FuzzTFBuffer(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 200, 1, 2, 3})
	f.Add([]byte{255, 0, 0, 0, 0, 0, 0, 0, 0, 128, 64, 3, 9, 1, 7, 7, 7, 7, 7, 7, 7, 7})
	frames := []string{"base", "a", "b", "c", "d"}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := NewTFBufferConfig(TFConfig{CacheTime: Duration{3 * time.Second}, ExtrapolationTolerance: Duration{10 * time.Millisecond}, MaxSamples: 8})
		if err != nil {
			t.Fatal(err)
		}
		next := func() byte {
			if len(data) == 0 {
				return 0
			}
			v := data[0]
			data = data[1:]
			return v
		}
		for len(data) > 0 {
			op := next()
			p, c := frames[int(next())%len(frames)], frames[int(next())%len(frames)]
			// Stamps spread over ±13 s in 0.1 s steps, plus the occasional extreme.
			stamp := sec(float64(int8(next())) / 10)
			if op%17 == 0 {
				stamp = time.Unix(0, math.MaxInt64-int64(next()))
			}
			if op%2 == 0 {
				q := [4]float64{float64(int8(next())), float64(int8(next())), float64(int8(next())), float64(int8(next()))}
				tr := [3]float64{float64(int8(next())), 0, float64(int8(next())) / 7}
				e := rosconv.StampedTransform{Stamp: stamp, Parent: p, Child: c, Transform: msgs.Transform{Translation: tr, Rotation: q}}
				_ = b.Set(e, op%3 == 0, stamp) // malformed edges and old data are errors, never panics
				continue
			}
			at := stamp
			if op%5 == 0 {
				at = time.Time{}
			}
			r, _, err := b.LookupAt(p, c, at)
			if err != nil {
				continue
			}
			checkRigid(t, r)
		}
	})
}

func checkRigid(t *testing.T, r perception.Rigid) {
	t.Helper()
	for _, v := range append(r.R[:], r.T[:]...) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("non-finite transform %+v", r)
		}
	}
	// RᵀR = I.
	for i := range 3 {
		for j := range 3 {
			d := r.R[i]*r.R[j] + r.R[3+i]*r.R[3+j] + r.R[6+i]*r.R[6+j]
			if i == j {
				d--
			}
			if math.Abs(d) > 1e-6 {
				t.Fatalf("rotation not orthonormal: %+v", r)
			}
		}
	}
}

func quatNormalize(q [4]float64) [4]float64 { return perception.QuatFromArray(q).Normalize().Array() }

func quatAngle(a, b [4]float64) float64 {
	return perception.QuatFromArray(a).Angle(perception.QuatFromArray(b))
}

func quatFromRPY(r, p, y float64) [4]float64 { return perception.QuatFromRPY(r, p, y).Array() }
