package consistency_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/dataset"
	"github.com/vla3d/vla3d/eval"
	"github.com/vla3d/vla3d/internal/rostest"
	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/node"
	"github.com/vla3d/vla3d/policy"
	"github.com/vla3d/vla3d/policy/preprocess"
	"github.com/vla3d/vla3d/sim"
	"github.com/vla3d/vla3d/sim/policyctl"
	"github.com/vla3d/vla3d/sim/record"
	"github.com/vla3d/vla3d/transport"
)

// recorder is a policy that keeps a copy of every input it is given, by
// observation stamp, and commands nothing (zero deltas).
type recorder struct {
	spec policy.Spec
	mu   sync.Mutex
	got  map[int64]*policy.Input
}

func newRecorder(spec policy.Spec) *recorder {
	return &recorder{spec: spec, got: map[int64]*policy.Input{}}
}

func (r *recorder) Spec() policy.Spec { return r.spec }
func (r *recorder) Close() error      { return nil }

func (r *recorder) Predict(_ context.Context, in *policy.Input, out *msgs.ActionChunk) error {
	r.mu.Lock()
	r.got[in.Stamp.UnixNano()] = cloneInput(in)
	r.mu.Unlock()
	out.Horizon, out.Dim = r.spec.Horizon, r.spec.ActionDim
	clear(out.Values)
	return nil
}

func (r *recorder) inputs() map[int64]*policy.Input {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps(r.got)
}

func maps(m map[int64]*policy.Input) map[int64]*policy.Input {
	out := make(map[int64]*policy.Input, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func cloneInput(in *policy.Input) *policy.Input {
	return &policy.Input{
		Images: slices.Clone(in.Images), Points: slices.Clone(in.Points), PointValid: slices.Clone(in.PointValid),
		Intrinsics: slices.Clone(in.Intrinsics), CamFromBase: slices.Clone(in.CamFromBase),
		Proprio: slices.Clone(in.Proprio), Instruction: slices.Clone(in.Instruction), Stamp: in.Stamp,
	}
}

// diff names the first tensor element where a and b differ by more than tol.
func diff(a, b *policy.Input, tol float64) error {
	for _, f := range []struct {
		name string
		x, y []float32
	}{
		{"images", a.Images, b.Images}, {"points", a.Points, b.Points}, {"point_valid", a.PointValid, b.PointValid},
		{"intrinsics", a.Intrinsics, b.Intrinsics}, {"cam_from_base", a.CamFromBase, b.CamFromBase}, {"proprio", a.Proprio, b.Proprio},
	} {
		if len(f.x) != len(f.y) {
			return fmt.Errorf("%s: %d vs %d values", f.name, len(f.x), len(f.y))
		}
		for i := range f.x {
			x, y := float64(f.x[i]), float64(f.y[i])
			if math.IsNaN(x) != math.IsNaN(y) || math.Abs(x-y) > tol {
				return fmt.Errorf("%s[%d]: %v vs %v", f.name, i, x, y)
			}
		}
	}
	if !slices.Equal(a.Instruction, b.Instruction) {
		return fmt.Errorf("instruction tokens %v vs %v", a.Instruction, b.Instruction)
	}
	return nil
}

func testSpec() policy.Spec {
	return policy.Spec{Cameras: 3, ImageWidth: 32, ImageHeight: 32, PatchSize: 8, ActionDim: msgs.EEActionDim, Horizon: 2,
		ProprioDim: preprocess.ProprioDimRPY, InstructionLen: 12, ControlHz: 10, ActionSpace: "ee_delta",
		Vocabulary: []string{"block", "bowl", "in", "put", "red", "the", "place", "into", "drop", "move"}}
}

// wristCamera is the index of the moving camera in the node config's order.
const wristCamera = 2

func TestTrainReplayDeploySameInputs(t *testing.T) {
	rostest.Require(t, "roscore", "rosbag")
	ctx := context.Background()
	spec := testSpec()
	nodeCfg, err := node.LoadConfig(filepath.Join("..", "launch", "vla3d_node.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := nodeCfg.Cameras[wristCamera].Name; got != "wrist" {
		t.Fatalf("camera %d of the bundled config is %q, want wrist", wristCamera, got)
	}

	// Record one expert episode; (d) the simulator's closed-loop controller
	// path sees each observation as it is recorded.
	dir := t.TempDir()
	env, err := sim.New(sim.Config{Width: 48, Height: 48})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	closedLoop := newRecorder(spec)
	ctl, err := policyctl.New(closedLoop, env, preprocess.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eps, err := record.Run(ctx, env, record.Config{Dir: dir, Task: sim.TaskPickPlace, Split: sim.SplitNone, Episodes: 1,
		Seed: 7, MaxSteps: 24, KeepFailed: true, Logger: zap.NewNop(),
		OnObservation: func(_ *sim.Env, obs *msgs.Observation) error {
			_, err := ctl.Act(ctx, obs)
			return err
		}})
	if err != nil {
		t.Fatal(err)
	}
	bagPath := eps[0].Path

	// (a) The trainer's samples: the dataset's preprocessed cache, reading
	// the recording with the node's configuration (vla3d-train -node-config).
	dcfg := dataset.DefaultConfig().WithObservation(nodeCfg.Observe())
	dcfg.Labels = true
	d, err := dataset.Open(ctx, []string{dir}, dcfg)
	if err != nil {
		t.Fatal(err)
	}
	cache, err := d.Cache(ctx, dataset.CacheOptions{Dir: t.TempDir(), Spec: spec, Labels: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	train := map[int64]*policy.Input{}
	buf := make([]byte, cache.RecordSize())
	var stamps []int64
	for i := range cache.Len() {
		rec := cache.NewRecord()
		if err := cache.Read(i, rec, buf); err != nil {
			t.Fatal(err)
		}
		train[rec.Stamp.UnixNano()] = rec.Input
		stamps = append(stamps, rec.Stamp.UnixNano())
	}
	slices.Sort(stamps)
	if len(train) < 20 {
		t.Fatalf("the dataset made %d training samples of a 24-step episode", len(train))
	}
	// The wrist camera's extrinsics move over the episode.
	first, last := train[stamps[0]].CamFromBase[12*wristCamera:], train[stamps[len(stamps)-1]].CamFromBase[12*wristCamera:]
	moved := 0.0
	for k := range 12 {
		moved = math.Max(moved, math.Abs(float64(first[k]-last[k])))
	}
	if moved < 0.01 {
		t.Fatalf("wrist extrinsics moved by %v only: not a moving-camera episode", moved)
	}

	// (b) vla3d-eval's replay.
	replay := newRecorder(spec)
	if _, err := eval.Run(ctx, []string{dir}, replay, eval.Options{Node: nodeCfg, Episodes: dataset.DefaultConfig(), Logger: zap.NewNop()}); err != nil {
		t.Fatal(err)
	}

	// (c) The live node over a real roscore, fed by the real `rosbag play`.
	master := rostest.StartMaster(t)
	liveCfg := nodeCfg
	liveCfg.Transport, liveCfg.MasterURI, liveCfg.Host, liveCfg.NodeName = transport.ROS1, master.URI(), "127.0.0.1", "vla3d_consistency"
	// Ensemble mode infers at every control tick (replan, the default, every
	// replan_every ticks): the node's input is compared at as many stamps as
	// the replay sees.
	liveCfg.Execution.Mode = contract.ExecEnsemble
	live := newRecorder(spec)
	n, err := node.New(liveCfg, live, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- n.Run(runCtx) }()
	time.Sleep(time.Second) // the node registers its subscriptions
	master.Run(t, 2*time.Minute, "rosbag", "play", "--quiet", "-d", "1", bagPath)
	time.Sleep(500 * time.Millisecond)
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	for _, path := range []struct {
		name    string
		got     map[int64]*policy.Input
		minimum int // stamps of the training set it must cover
	}{
		{"(b) bag replay", replay.inputs(), len(train)},
		{"(c) live node + rosbag play", live.inputs(), len(train) * 3 / 4},
		{"(d) simulator closed loop", closedLoop.inputs(), len(train)},
	} {
		matched := 0
		for _, st := range stamps {
			in, ok := path.got[st]
			if !ok {
				continue
			}
			matched++
			if err := diff(train[st], in, 1e-6); err != nil {
				t.Errorf("%s differs from training at %v: %v", path.name, time.Unix(0, st).UTC().Format(time.RFC3339Nano), err)
			}
		}
		t.Logf("%s: %d of %d training stamps matched (%d inputs seen)", path.name, matched, len(train), len(path.got))
		if matched < path.minimum {
			t.Errorf("%s matched %d training stamps, want at least %d", path.name, matched, path.minimum)
		}
	}
}
