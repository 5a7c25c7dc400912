package node

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/tf2_msgs"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/observe/observetest"
	"github.com/vla3d/vla3d/policy"
)

// linePolicy is a deterministic test double of policy.Policy: every step of
// its chunk moves the end effector by Step along x, with the gripper at the
// mean of the normalized proprio's last value (so inputs reach it), and it
// can be told to fail, return NaN or sleep.
type linePolicy struct {
	spec  policy.Spec
	Step  float32
	Delay time.Duration

	mu    sync.Mutex
	calls int
	fail  error
	nan   bool
}

func newLinePolicy(cameras, size int) *linePolicy {
	return &linePolicy{Step: 0.001, spec: policy.Spec{
		Cameras: cameras, ImageWidth: size, ImageHeight: size, PatchSize: 16, ActionDim: msgs.EEActionDim,
		Horizon: 8, ProprioDim: 7, InstructionLen: 8, ControlHz: 20, ActionSpace: "ee_delta",
		Vocabulary: []string{"pick", "cube"},
	}}
}

func (p *linePolicy) Spec() policy.Spec { return p.spec }
func (p *linePolicy) Close() error      { return nil }

func (p *linePolicy) set(fail error, nan bool) {
	p.mu.Lock()
	p.fail, p.nan = fail, nan
	p.mu.Unlock()
}

func (p *linePolicy) Predict(ctx context.Context, in *policy.Input, out *msgs.ActionChunk) error {
	p.mu.Lock()
	p.calls++
	fail, nan := p.fail, p.nan
	p.mu.Unlock()
	if p.Delay > 0 {
		select {
		case <-time.After(p.Delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if fail != nil {
		return fail
	}
	h, d := p.spec.Horizon, p.spec.ActionDim
	out.Horizon, out.Dim = h, d
	out.Period = time.Duration(float64(time.Second) / p.spec.ControlHz)
	if cap(out.Values) < h*d {
		out.Values = make([]float32, h*d)
	}
	out.Values = out.Values[:h*d]
	clear(out.Values)
	for k := range h {
		a := out.Step(k)
		a[msgs.ActionDX] = p.Step
		a[msgs.ActionGripper] = in.Proprio[6]
		if nan {
			a[msgs.ActionDY] = float32(math.NaN())
		}
	}
	return nil
}

var errPolicy = errors.New("test policy failure")

// testConfig is a valid node config for n cameras named c0..c{n-1}.
func testConfig(n int) Config {
	cfg := DefaultConfig()
	cfg.ControlHz = 20
	cfg.Cameras = nil
	for i := range n {
		cam := CameraTopics("c" + string(rune('0'+i)))
		cam.OpticalFrame = observetest.OpticalFrame(cam.Name)
		cfg.Cameras = append(cfg.Cameras, cam)
	}
	return cfg
}

func camMsgs(name string, size int, stamp time.Time) (*sensor_msgs.Image, *sensor_msgs.Image, *sensor_msgs.CameraInfo) {
	return observetest.CamMsgs(name, size, stamp)
}

// staticTF builds /tf_static placing every camera 1 m above the base looking down.
func staticTF(cfg *Config) *tf2_msgs.TFMessage { return stampedTF(cfg, time.Time{}) }

// stampedTF is staticTF's tree stamped at stamp (a /tf message).
func stampedTF(cfg *Config, stamp time.Time) *tf2_msgs.TFMessage {
	names := make([]string, len(cfg.Cameras))
	for i, c := range cfg.Cameras {
		names[i] = c.Name
	}
	return observetest.CameraTF(cfg.BaseFrame, stamp, names...)
}

func eePose(frame string, stamp time.Time) *geometry_msgs.PoseStamped {
	return observetest.EEPose(frame, stamp)
}

// fakeClock is a manually advanced clock.
type fakeClock = observetest.Clock

// stopRun cancels a node started with go func() { runErr <- n.Run(ctx) }()
// and fails t unless Run returns nil (a clean stop) within 10 s.
func stopRun(t *testing.T, cancel context.CancelFunc, runErr <-chan error) {
	t.Helper()
	cancel()
	select {
	case err := <-runErr:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("node did not shut down")
	}
}
