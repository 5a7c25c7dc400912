package rosconv

import (
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/trajectory_msgs"

	"github.com/vla3d/vla3d/msgs"
)

// ErrJoints is wrapped by joint conversion errors.
var ErrJoints = errors.New("rosconv: bad joint message")

// JointPositions writes into dst (len(dst) == len(names)) the positions of
// the named joints from a sensor_msgs/JointState, in the order of names
// (drivers publish joints in their own order, sometimes split over several
// messages). A JointState without names is taken positionally. It returns
// how many joints were found; missing joints leave dst untouched.
func JointPositions(m *sensor_msgs.JointState, names []string, dst []float64) (int, error) {
	if len(dst) != len(names) {
		return 0, fmt.Errorf("%w: %d destinations for %d names", ErrJoints, len(dst), len(names))
	}
	if len(m.Name) == 0 {
		n := min(len(m.Position), len(dst))
		for i := range n {
			if !finite(m.Position[i]) {
				return 0, fmt.Errorf("%w: joint %d position %v", ErrNonFinite, i, m.Position[i])
			}
		}
		copy(dst, m.Position[:n])
		return n, nil
	}
	if len(m.Position) < len(m.Name) {
		return 0, fmt.Errorf("%w: %d names but %d positions", ErrJoints, len(m.Name), len(m.Position))
	}
	found := 0
	for i, want := range names {
		for j, have := range m.Name {
			if have == want {
				if !finite(m.Position[j]) {
					return found, fmt.Errorf("%w: joint %q position %v", ErrNonFinite, have, m.Position[j])
				}
				dst[i] = m.Position[j]
				found++
				break
			}
		}
	}
	return found, nil
}

// JointStateToROS fills m with names and positions (velocity/effort empty).
func JointStateToROS(names []string, positions []float64, stamp time.Time, m *sensor_msgs.JointState) {
	m.Header = Header(stamp, "")
	m.Name = append(m.Name[:0], names...)
	m.Position = append(m.Position[:0], positions...)
	m.Velocity, m.Effort = m.Velocity[:0], m.Effort[:0]
}

// ChunkToJointTrajectory writes an action chunk as a trajectory_msgs/
// JointTrajectory: point i holds action i (all Dim values, in float64) at
// time_from_start = i*Period. names label the Dim columns (len must be Dim).
// m's slices are reused, so publishing the same chunk size every tick does not
// allocate.
func ChunkToJointTrajectory(c *msgs.ActionChunk, names []string, frame string, m *trajectory_msgs.JointTrajectory) error {
	if len(names) != c.Dim {
		return fmt.Errorf("%w: %d names for action dim %d", ErrJoints, len(names), c.Dim)
	}
	if len(c.Values) < c.Horizon*c.Dim {
		return fmt.Errorf("%w: chunk holds %d values for %dx%d", ErrJoints, len(c.Values), c.Horizon, c.Dim)
	}
	m.Header = Header(c.Stamp, frame)
	if len(m.JointNames) != len(names) {
		m.JointNames = append(m.JointNames[:0], names...)
	} else {
		copy(m.JointNames, names)
	}
	m.Points = grow(m.Points, c.Horizon)
	for i := range c.Horizon {
		p := &m.Points[i]
		p.Positions = grow(p.Positions, c.Dim)
		for k, v := range c.Step(i) {
			p.Positions[k] = float64(v)
		}
		p.Velocities, p.Accelerations, p.Effort = p.Velocities[:0], p.Accelerations[:0], p.Effort[:0]
		p.TimeFromStart = time.Duration(i) * c.Period
	}
	return nil
}

// ChunkFromJointTrajectory reads a JointTrajectory written by
// ChunkToJointTrajectory (or any trajectory with equal point sizes and evenly
// spaced times) back into dst, reusing dst.Values.
func ChunkFromJointTrajectory(m *trajectory_msgs.JointTrajectory, dst *msgs.ActionChunk) error {
	if len(m.Points) == 0 {
		return fmt.Errorf("%w: trajectory has no points", ErrJoints)
	}
	dim := len(m.Points[0].Positions)
	if dim == 0 {
		return fmt.Errorf("%w: trajectory point 0 has no positions", ErrJoints)
	}
	dst.Stamp, dst.Horizon, dst.Dim = m.Header.Stamp, len(m.Points), dim
	dst.Period = 0
	if len(m.Points) > 1 {
		dst.Period = m.Points[1].TimeFromStart - m.Points[0].TimeFromStart
	}
	dst.Values = grow(dst.Values, dst.Horizon*dim)
	for i, p := range m.Points {
		if len(p.Positions) != dim {
			return fmt.Errorf("%w: point %d has %d positions, point 0 has %d", ErrJoints, i, len(p.Positions), dim)
		}
		for k, v := range p.Positions {
			if !finite(v) {
				return fmt.Errorf("%w: point %d value %d is %v", ErrNonFinite, i, k, v)
			}
			dst.Values[i*dim+k] = float32(v)
		}
	}
	return nil
}
