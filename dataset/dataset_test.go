package dataset

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/vla3d/vla3d/bag"
	"github.com/vla3d/vla3d/dataset/synth"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/preprocess"
)

func mustWrite(t *testing.T, s synth.Config, path string) {
	t.Helper()
	if err := s.Write(path); err != nil {
		t.Fatal(err)
	}
}

func openSrc(t *testing.T, path string) bag.Source {
	t.Helper()
	src, err := OpenSource(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

type stepCopy struct {
	ep, idx  int
	stamp    time.Time
	action   [7]float32
	derived  bool
	pose     msgs.Pose
	gripper  float64
	instr    string
	wristT   [3]float64
	frontT   [3]float64
	depth0   float32
	color0   uint8
	labelSum int
}

func readSteps(t *testing.T, src bag.Source, cfg Config) ([]stepCopy, []EpisodeStats) {
	t.Helper()
	spans, err := Spans(context.Background(), src, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []stepCopy
	var stats []EpisodeStats
	for _, sp := range spans {
		st, err := ReadEpisode(context.Background(), src, sp, cfg, func(s *Step) error {
			c := stepCopy{ep: s.Episode, idx: s.Index, stamp: s.Obs.Stamp, action: s.Action, derived: s.Derived,
				pose: s.Obs.EEPose, gripper: s.Obs.Gripper, instr: s.Obs.Instruction,
				frontT: s.Obs.Cameras[0].BaseFromCamera.Translation, wristT: s.Obs.Cameras[1].BaseFromCamera.Translation,
				depth0: s.Obs.Cameras[0].Depth.Meters[0], color0: s.Obs.Cameras[1].Color.Pix[0]}
			for _, id := range s.Obs.Cameras[0].Labels.IDs {
				c.labelSum += int(id)
			}
			out = append(out, c)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		stats = append(stats, st)
	}
	return out, stats
}

func TestSpans(t *testing.T) {
	dir := t.TempDir()
	marked := filepath.Join(dir, "m.bag")
	mustWrite(t, synth.Config{Episodes: 3, Steps: 5, GapBetween: time.Second}, marked)
	unmarked := filepath.Join(dir, "u.bag")
	mustWrite(t, synth.Config{Episodes: 3, Steps: 5, NoMarkers: true, GapBetween: 5 * time.Second}, unmarked)
	cases := []struct {
		name  string
		path  string
		split SplitMode
		want  int
	}{
		{"auto marker", marked, SplitAuto, 3},
		{"marker", marked, SplitMarker, 3},
		{"file", marked, SplitFile, 1},
		{"auto gap", unmarked, SplitAuto, 3},
		{"gap", unmarked, SplitGap, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Split = tc.split
			spans, err := Spans(context.Background(), openSrc(t, tc.path), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(spans) != tc.want {
				t.Fatalf("got %d spans: %+v", len(spans), spans)
			}
			for i := 1; i < len(spans); i++ {
				if !spans[i].Start.After(spans[i-1].End) {
					t.Fatalf("spans overlap: %+v", spans)
				}
			}
		})
	}
	cfg := DefaultConfig()
	cfg.Split = SplitMarker
	if _, err := Spans(context.Background(), openSrc(t, unmarked), cfg); err == nil {
		t.Fatal("marker split without markers must fail")
	}
}

func TestReadEpisodeRecorded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.bag")
	const steps = 8
	mustWrite(t, synth.Config{Episodes: 2, Steps: steps, Labels: true, GapBetween: time.Second}, path)
	cfg := DefaultConfig()
	cfg.Labels = true
	got, stats := readSteps(t, openSrc(t, path), cfg)
	if len(got) != 2*steps {
		t.Fatalf("got %d steps, want %d; stats %+v", len(got), 2*steps, stats)
	}
	for i, s := range got {
		k := i % steps
		if s.idx != k || s.ep != i/steps || s.derived {
			t.Fatalf("step %d: %+v", i, s)
		}
		if s.action != synth.Action(k, steps) {
			t.Fatalf("step %d action %v", i, s.action)
		}
		wantG := 0.0
		if k > 0 {
			wantG = float64(synth.Action(k-1, steps)[6])
		}
		if s.gripper != wantG {
			t.Fatalf("step %d gripper %v want %v", i, s.gripper, wantG)
		}
		if s.instr != fmt.Sprintf("pick up block %d", s.ep) {
			t.Fatalf("instruction %q", s.instr)
		}
		if s.frontT != [3]float64{1, 0, 0.5} {
			t.Fatalf("front extrinsic %v", s.frontT)
		}
		wantX := 0.4 + 0.01*float64(k)
		if math.Abs(s.pose.Position[0]-wantX) > 1e-6 || math.Abs(s.wristT[0]-wantX) > 1e-6 {
			t.Fatalf("step %d pose %v wrist %v want x %v", i, s.pose.Position, s.wristT, wantX)
		}
		if math.Abs(float64(s.depth0)-(1+0.01*float64(k))) > 1e-6 || s.color0 != byte(k+10) {
			t.Fatalf("step %d images depth %v colour %v", i, s.depth0, s.color0)
		}
		if s.labelSum == 0 {
			t.Fatal("labels missing")
		}
	}
}

func TestReadEpisodeDerived(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.bag")
	const steps = 8
	mustWrite(t, synth.Config{Episodes: 1, Steps: steps, NoAction: true}, path)
	got, stats := readSteps(t, openSrc(t, path), DefaultConfig())
	if len(got) != steps-1 || stats[0].Dropped[DropLastDerived] != 1 {
		t.Fatalf("got %d steps, stats %+v", len(got), stats)
	}
	for i, s := range got {
		want := synth.Action(i, steps)
		if !s.derived {
			t.Fatal("action not flagged derived")
		}
		for k := 0; k < 6; k++ {
			if math.Abs(float64(s.action[k]-want[k])) > 1e-5 {
				t.Fatalf("step %d dim %d: derived %v recorded %v", i, k, s.action, want)
			}
		}
	}
}

func TestDeriveActionTable(t *testing.T) {
	id := [4]float64{0, 0, 0, 1}
	s, c := math.Sin(0.05), math.Cos(0.05)
	cases := []struct {
		name      string
		cur, next msgs.Pose
		want      [7]float32
	}{
		{"still", msgs.Pose{Orientation: id}, msgs.Pose{Orientation: id}, [7]float32{}},
		{"translate", msgs.Pose{Position: [3]float64{1, 2, 3}, Orientation: id}, msgs.Pose{Position: [3]float64{1.5, 2, 2}, Orientation: id}, [7]float32{0.5, 0, -1, 0, 0, 0, 0}},
		// roll of 0.1 rad: q = (sin 0.05, 0, 0, cos 0.05)
		{"roll", msgs.Pose{Orientation: id}, msgs.Pose{Orientation: [4]float64{s, 0, 0, c}}, [7]float32{0, 0, 0, 0.1, 0, 0, 0}},
		{"yaw from yawed", msgs.Pose{Orientation: [4]float64{0, 0, s, c}}, msgs.Pose{Orientation: [4]float64{0, 0, math.Sin(0.1), math.Cos(0.1)}}, [7]float32{0, 0, 0, 0, 0, 0.1, 0}},
		// q and -q are the same orientation: no rotation.
		{"sign flip", msgs.Pose{Orientation: id}, msgs.Pose{Orientation: [4]float64{0, 0, 0, -1}}, [7]float32{}},
	}
	for _, tc := range cases {
		got := DeriveAction(tc.cur, tc.next, 0)
		for k := range got {
			if math.Abs(float64(got[k]-tc.want[k])) > 1e-6 {
				t.Errorf("%s: got %v want %v", tc.name, got, tc.want)
				break
			}
		}
	}
}

func TestMCAPSourcesMatchBag(t *testing.T) {
	dir := t.TempDir()
	s := synth.Config{Episodes: 2, Steps: 5, GapBetween: time.Second}
	mustWrite(t, s, filepath.Join(dir, "a.bag"))
	want, _ := readSteps(t, openSrc(t, filepath.Join(dir, "a.bag")), DefaultConfig())
	for _, enc := range []string{"ros1", "cdr"} {
		s.MCAP, s.Encoding = true, enc
		p := filepath.Join(dir, enc+".mcap")
		mustWrite(t, s, p)
		got, _ := readSteps(t, openSrc(t, p), DefaultConfig())
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: mcap steps differ from bag steps (%d vs %d)", enc, len(got), len(want))
		}
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	t.Run("missing camera_info", func(t *testing.T) {
		p := filepath.Join(dir, "noinfo.bag")
		mustWrite(t, synth.Config{Episodes: 1, Steps: 5, NoInfo: "wrist"}, p)
		got, stats := readSteps(t, openSrc(t, p), DefaultConfig())
		if len(got) != 0 || stats[0].Dropped[DropNoCameraInfo] != 5 {
			t.Fatalf("got %d steps, stats %+v", len(got), stats)
		}
	})
	t.Run("out of order stamps", func(t *testing.T) {
		p := filepath.Join(dir, "ooo.bag")
		mustWrite(t, synth.Config{Episodes: 1, Steps: 8, SwapStamps: 3}, p)
		got, stats := readSteps(t, openSrc(t, p), DefaultConfig())
		if stats[0].OutOfOrder == 0 || len(got) < 4 {
			t.Fatalf("got %d steps, stats %+v", len(got), stats)
		}
	})
	t.Run("stamp jitter", func(t *testing.T) {
		p := filepath.Join(dir, "jit.bag")
		mustWrite(t, synth.Config{Episodes: 1, Steps: 6, DepthJitter: 7 * time.Millisecond}, p)
		got, _ := readSteps(t, openSrc(t, p), DefaultConfig())
		if len(got) != 6 {
			t.Fatalf("jittered depth: got %d steps", len(got))
		}
	})
	t.Run("unknown colour encoding", func(t *testing.T) {
		p := filepath.Join(dir, "yuv.bag")
		mustWrite(t, synth.Config{Episodes: 1, Steps: 4, ColorEncoding: "yuv422"}, p)
		got, stats := readSteps(t, openSrc(t, p), DefaultConfig())
		// Refused at intake (as the node refuses it): no set forms.
		if len(got) != 0 || stats[0].BadMsgs != 8 { // 4 steps x 2 cameras
			t.Fatalf("got %d steps, stats %+v", len(got), stats)
		}
	})
	t.Run("bgr8 colour", func(t *testing.T) {
		p := filepath.Join(dir, "bgr.bag")
		mustWrite(t, synth.Config{Episodes: 1, Steps: 3, ColorEncoding: "bgr8"}, p)
		got, _ := readSteps(t, openSrc(t, p), DefaultConfig())
		// Pixel 0 of camera 1 at step k is (k+10, k+11, k+12) as written;
		// read as BGR its red channel is the third byte.
		if len(got) != 3 || got[1].color0 != 1+12 {
			t.Fatalf("got %d steps, red %v", len(got), got[1].color0)
		}
	})
	t.Run("missing camera", func(t *testing.T) {
		p := filepath.Join(dir, "cam.bag")
		mustWrite(t, synth.Config{Episodes: 1, Steps: 3}, p)
		cfg := DefaultConfig()
		cfg.Cameras = CameraNames("front", "side")
		_, err := ReadEpisode(context.Background(), openSrc(t, p), Span{Start: synth.T0, End: synth.T0.Add(time.Hour)}, cfg, func(*Step) error { return nil })
		if err == nil {
			t.Fatal("a configured camera without topics must be an error")
		}
	})
	t.Run("not a recording", func(t *testing.T) {
		if _, err := OpenSource("testutil_test.go", nil); err == nil {
			t.Fatal("expected an error")
		}
	})
}

func testSpec() policy.Spec {
	return policy.Spec{Cameras: 2, ImageWidth: 8, ImageHeight: 8, PatchSize: 4, ActionDim: 7, Horizon: 4,
		ProprioDim: 7, InstructionLen: 6, Vocabulary: []string{"pick", "up", "block"}}
}

func TestDatasetSplitOrderCache(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 3; i++ {
		mustWrite(t, synth.Config{Episodes: 2, Steps: 6, Labels: true, GapBetween: time.Second}, filepath.Join(dir, fmt.Sprintf("ep%d.bag", i)))
	}
	ctx := context.Background()
	cfg := DefaultConfig()
	cfg.Labels = true
	d, err := Open(ctx, []string{dir}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 6 {
		t.Fatalf("%d episodes", d.Len())
	}
	tr, va := d.Split(0.34, 7)
	tr2, va2 := d.Split(0.34, 7)
	if tr.Len()+va.Len() != 6 || va.Len() != 2 || !reflect.DeepEqual(va.Episodes(), va2.Episodes()) || !reflect.DeepEqual(tr.Episodes(), tr2.Episodes()) {
		t.Fatalf("split %d/%d not deterministic or wrong size", tr.Len(), va.Len())
	}
	seen := map[string]bool{}
	for _, e := range append(tr.Episodes(), va.Episodes()...) {
		if seen[e.Key()] {
			t.Fatal("episode on both sides of the split")
		}
		seen[e.Key()] = true
	}
	if !reflect.DeepEqual(d.Order(1, 0), d.Order(1, 0)) || reflect.DeepEqual(d.Order(1, 0), d.Order(1, 1)) && reflect.DeepEqual(d.Order(1, 1), d.Order(1, 2)) {
		t.Fatal("episode order must be a deterministic function of (seed, epoch)")
	}
	instr, err := d.Instructions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range d.Episodes() {
		if want := fmt.Sprintf("pick up block %d", e.Span.Index); instr[i] != want {
			t.Fatalf("episode %d instruction %q, want %q", i, instr[i], want)
		}
	}
	n := 0
	if err := tr.Steps(ctx, 3, 0, func(ep int, s *Step) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 6*tr.Len() {
		t.Fatalf("streamed %d steps", n)
	}

	copts := CacheOptions{Dir: filepath.Join(dir, "cache"), Spec: testSpec(), Labels: true}
	c, err := d.Cache(ctx, copts)
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 36 || c.Decoded != 36 {
		t.Fatalf("cache has %d steps, decoded %d", c.Len(), c.Decoded)
	}
	// Compare one record with preprocessing the step directly.
	pre, err := preprocess.New(testSpec(), preprocess.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := policy.NewInput(testSpec())
	var wantAction [7]float32
	if _, err := d.ReadEpisode(ctx, 1, func(s *Step) error {
		if s.Index == 2 {
			wantAction = s.Action
			return pre.Process(&s.Obs, want)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rec := c.NewRecord()
	if err := c.Read(6+2, rec, nil); err != nil {
		t.Fatal(err)
	}
	if !rec.Input.Stamp.Equal(want.Stamp) {
		t.Fatalf("cached stamp %v, want %v", rec.Input.Stamp, want.Stamp)
	}
	want.Stamp = rec.Input.Stamp // same instant; the cache stores it in UTC
	if rec.Episode != 1 || rec.Step != 2 || rec.Action != wantAction || !reflect.DeepEqual(rec.Input, want) {
		t.Fatalf("cached record differs: episode %d step %d action %v", rec.Episode, rec.Step, rec.Action)
	}
	sum := 0
	for _, l := range rec.Labels {
		sum += int(l)
	}
	if sum == 0 || math.IsNaN(float64(rec.Depth[0])) {
		t.Fatal("labels/depth not cached")
	}
	chunk, valid := make([]float32, 4*7), make([]float32, 4)
	if err := c.ActionChunk(6+4, 4, chunk, valid); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(valid, []float32{1, 1, 0, 0}) || chunk[3*7+6] != 1 {
		t.Fatalf("chunk valid %v chunk %v", valid, chunk)
	}
	mean, std := c.ActionStats()
	if math.Abs(float64(mean[0])-0.01) > 1e-6 || std[0] != ConstantActionStd || math.Abs(float64(mean[6])-0.5) > 1e-6 {
		t.Fatalf("stats mean %v std %v", mean, std)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// Second epoch: everything comes from the cache.
	c2, err := d.Cache(ctx, copts)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if c2.Len() != 36 || c2.Decoded != 0 {
		t.Fatalf("second open decoded %d steps", c2.Decoded)
	}
	rec2 := c2.NewRecord()
	if err := c2.Read(8, rec2, nil); err != nil || !reflect.DeepEqual(rec2, rec) {
		t.Fatalf("re-read differs: %v", err)
	}
	if o := c2.Order(5, 0); len(o) != 36 || reflect.DeepEqual(o, c2.Order(5, 1)) {
		t.Fatal("sample order must be a per-epoch permutation")
	}
}

// A cache record whose bytes changed on disk fails its checksum: the file
// is rebuilt from the recording, never trained on.
func TestCacheRebuildsACorruptRecord(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	mustWrite(t, synth.Config{Episodes: 1, Steps: 5}, filepath.Join(dir, "ep.bag"))
	d, err := Open(ctx, []string{dir}, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	copts := CacheOptions{Dir: filepath.Join(dir, "cache"), Spec: testSpec()}
	c, err := d.Cache(ctx, copts)
	if err != nil {
		t.Fatal(err)
	}
	want := c.NewRecord()
	if err := c.Read(1, want, nil); err != nil {
		t.Fatal(err)
	}
	c.Close()
	files, _ := filepath.Glob(filepath.Join(copts.Dir, "*.v3c"))
	if len(files) != 1 {
		t.Fatalf("cache files %v", files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	b[c.RecordSize()+100] ^= 0xff // a pixel of record 1
	if err := os.WriteFile(files[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err = d.Cache(ctx, copts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Decoded == 0 {
		t.Fatal("a corrupt cache file was used instead of rebuilt")
	}
	got := c.NewRecord()
	if err := c.Read(1, got, nil); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Input.Images, want.Input.Images) {
		t.Fatal("rebuilt record differs from the original")
	}
}
