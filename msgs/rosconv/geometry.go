package rosconv

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/tf2_msgs"

	"github.com/vla3d/vla3d/msgs"
)

// ErrNonFinite is wrapped when a pose or transform holds NaN or Inf.
var ErrNonFinite = errors.New("rosconv: non-finite value")

func finite(v ...float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// Header builds a std_msgs/Header.
func Header(stamp time.Time, frame string) std_msgs.Header {
	return std_msgs.Header{Stamp: stamp, FrameId: frame}
}

// CameraInfoFromROS copies the calibration of m into dst, reusing dst.D.
func CameraInfoFromROS(m *sensor_msgs.CameraInfo, dst *msgs.CameraInfo) {
	dst.FrameID = m.Header.FrameId
	dst.Width, dst.Height = int(m.Width), int(m.Height)
	dst.DistortionModel = m.DistortionModel
	dst.D = append(dst.D[:0], m.D...)
	dst.K, dst.R, dst.P = m.K, m.R, m.P
}

// CameraInfoToROS fills m from info (binning 0, full-image ROI).
func CameraInfoToROS(info *msgs.CameraInfo, stamp time.Time, m *sensor_msgs.CameraInfo) {
	m.Header = Header(stamp, info.FrameID)
	m.Width, m.Height = uint32(info.Width), uint32(info.Height)
	m.DistortionModel = info.DistortionModel
	m.D = append(m.D[:0], info.D...)
	m.K, m.R, m.P = info.K, info.R, info.P
	m.BinningX, m.BinningY = 0, 0
	m.Roi = sensor_msgs.RegionOfInterest{}
}

// PoseFromROS converts a geometry_msgs/Pose, refusing NaN/Inf.
func PoseFromROS(p *geometry_msgs.Pose) (msgs.Pose, error) {
	o := msgs.Pose{
		Position:    [3]float64{p.Position.X, p.Position.Y, p.Position.Z},
		Orientation: [4]float64{p.Orientation.X, p.Orientation.Y, p.Orientation.Z, p.Orientation.W},
	}
	if !finite(o.Position[:]...) || !finite(o.Orientation[:]...) {
		return msgs.Pose{}, fmt.Errorf("%w: pose %v", ErrNonFinite, o)
	}
	return o, nil
}

// PoseToROS converts a pose to geometry_msgs/Pose.
func PoseToROS(p msgs.Pose) geometry_msgs.Pose {
	return geometry_msgs.Pose{
		Position:    geometry_msgs.Point{X: p.Position[0], Y: p.Position[1], Z: p.Position[2]},
		Orientation: geometry_msgs.Quaternion{X: p.Orientation[0], Y: p.Orientation[1], Z: p.Orientation[2], W: p.Orientation[3]},
	}
}

// PoseStampedToROS builds a geometry_msgs/PoseStamped.
func PoseStampedToROS(p msgs.Pose, stamp time.Time, frame string) geometry_msgs.PoseStamped {
	return geometry_msgs.PoseStamped{Header: Header(stamp, frame), Pose: PoseToROS(p)}
}

// TransformFromROS converts a geometry_msgs/Transform, refusing NaN/Inf.
func TransformFromROS(t *geometry_msgs.Transform) (msgs.Transform, error) {
	o := msgs.Transform{
		Translation: [3]float64{t.Translation.X, t.Translation.Y, t.Translation.Z},
		Rotation:    [4]float64{t.Rotation.X, t.Rotation.Y, t.Rotation.Z, t.Rotation.W},
	}
	if !finite(o.Translation[:]...) || !finite(o.Rotation[:]...) {
		return msgs.Transform{}, fmt.Errorf("%w: transform %v", ErrNonFinite, o)
	}
	return o, nil
}

// TransformToROS converts a transform to geometry_msgs/Transform.
func TransformToROS(t msgs.Transform) geometry_msgs.Transform {
	return geometry_msgs.Transform{
		Translation: geometry_msgs.Vector3{X: t.Translation[0], Y: t.Translation[1], Z: t.Translation[2]},
		Rotation:    geometry_msgs.Quaternion{X: t.Rotation[0], Y: t.Rotation[1], Z: t.Rotation[2], W: t.Rotation[3]},
	}
}

// StampedTransform is one tf edge: Transform maps Child-frame points into Parent.
type StampedTransform struct {
	Stamp         time.Time
	Parent, Child string
	Transform     msgs.Transform
}

// TransformStampedToROS builds a geometry_msgs/TransformStamped for one tf edge.
func TransformStampedToROS(t StampedTransform) geometry_msgs.TransformStamped {
	return geometry_msgs.TransformStamped{
		Header:       Header(t.Stamp, t.Parent),
		ChildFrameId: t.Child,
		Transform:    TransformToROS(t.Transform),
	}
}

// TFFromROS appends the edges of a tf2_msgs/TFMessage to dst. Non-finite
// transforms are skipped and reported in the returned error (the others are
// still appended), so one bad edge does not hide the rest.
func TFFromROS(m *tf2_msgs.TFMessage, dst []StampedTransform) ([]StampedTransform, error) {
	var errs []error
	for i := range m.Transforms {
		ts := &m.Transforms[i]
		tr, err := TransformFromROS(&ts.Transform)
		if err != nil {
			errs = append(errs, fmt.Errorf("tf %s -> %s: %w", ts.Header.FrameId, ts.ChildFrameId, err))
			continue
		}
		dst = append(dst, StampedTransform{Stamp: ts.Header.Stamp, Parent: ts.Header.FrameId, Child: ts.ChildFrameId, Transform: tr})
	}
	return dst, errors.Join(errs...)
}

// TFToROS builds a tf2_msgs/TFMessage from edges.
func TFToROS(edges []StampedTransform) tf2_msgs.TFMessage {
	m := tf2_msgs.TFMessage{Transforms: make([]geometry_msgs.TransformStamped, len(edges))}
	for i, e := range edges {
		m.Transforms[i] = TransformStampedToROS(e)
	}
	return m
}
