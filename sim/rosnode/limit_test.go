package rosnode

import (
	"math"
	"testing"
	"time"

	"github.com/vla3d/vla3d/msgs"
	"github.com/vla3d/vla3d/perception"
	"github.com/vla3d/vla3d/sim"
)

// Any publisher on the command topic is held to the simulated robot's own
// speed limit: a target 1 m away moves 5 cm per 10 Hz period at 0.5 m/s.
func TestCommandSpeedLimit(t *testing.T) {
	env, err := sim.New(sim.Config{Width: 16, Height: 16, SkipLabels: true})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	cfg := Config{}
	cfg.defaults()
	n := &Node{cfg: cfg, env: env}
	id := perception.IdentityQuat()
	pos, q, clamped := n.limit([3]float64{0.4, 0, 0.3}, id, [3]float64{1.4, 0, 0.3}, perception.QuatFromRPY(0, 0, 1))
	if !clamped || math.Abs(pos[0]-0.45) > 1e-12 || math.Abs(id.Angle(q)-0.2) > 1e-9 {
		t.Fatalf("limited to %v, angle %v (clamped %v)", pos, id.Angle(q), clamped)
	}
	pos, _, clamped = n.limit([3]float64{0.4, 0, 0.3}, id, [3]float64{0.41, 0, 0.3}, id)
	if clamped || pos[0] != 0.41 {
		t.Fatalf("a slow command was clamped: %v", pos)
	}
}

// After an automatic reset the last command is forgotten and commands are
// dropped until the settle time has passed.
func TestCommandResetSettles(t *testing.T) {
	var c command
	now := time.Unix(100, 0)
	if c.settling(now) {
		t.Fatal("a fresh node drops commands")
	}
	c.pose, c.gripper, c.external = &msgs.Pose{}, 1, true
	c.reset(now.Add(2 * time.Second))
	if c.pose != nil || c.gripper != 0 || c.external {
		t.Errorf("reset kept the last command: pose %v gripper %v external %v", c.pose, c.gripper, c.external)
	}
	for _, tc := range []struct {
		after time.Duration
		want  bool
	}{{0, true}, {1999 * time.Millisecond, true}, {2 * time.Second, false}, {3 * time.Second, false}} {
		if got := c.settling(now.Add(tc.after)); got != tc.want {
			t.Errorf("%v after the reset: settling %v, want %v", tc.after, got, tc.want)
		}
	}
	// A restart after a simulation fault forgets the command, not the settle.
	c.pose = &msgs.Pose{}
	c.reset(time.Time{})
	if c.pose != nil || !c.settling(now.Add(time.Second)) {
		t.Errorf("restart: pose %v, settling %v; want nil, true", c.pose, c.settling(now.Add(time.Second)))
	}
}
