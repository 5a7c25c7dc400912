package ros2

import (
	"reflect"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msg"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/visualization_msgs"
)

// The few messages whose ROS 2 definition differs from ROS 1 beyond
// std_msgs/Header's seq (which the CDR codec drops) get a ROS 2 struct
// here and an adapter from the ROS 1 struct the project uses.

type compressedImage struct {
	msg.Package `ros:"sensor_msgs"`
	msg.Name    `ros:"CompressedImage"`
	Header      std_msgs.Header
	Format      string
	Data        []uint8
}

type uvCoordinate struct {
	msg.Package `ros:"visualization_msgs"`
	msg.Name    `ros:"UVCoordinate"`
	U, V        float32
}

type meshFile struct {
	msg.Package `ros:"visualization_msgs"`
	msg.Name    `ros:"MeshFile"`
	Filename    string
	Data        []uint8
}

// marker is visualization_msgs/msg/Marker as of Humble (texture and mesh
// file fields added after the ROS 1 layout's colors).
type marker struct {
	msg.Package              `ros:"visualization_msgs"`
	msg.Name                 `ros:"Marker"`
	Header                   std_msgs.Header
	Ns                       string
	Id                       int32
	Type                     int32
	Action                   int32
	Pose                     geometry_msgs.Pose
	Scale                    geometry_msgs.Vector3
	Color                    std_msgs.ColorRGBA
	Lifetime                 time.Duration
	FrameLocked              bool
	Points                   []geometry_msgs.Point
	Colors                   []std_msgs.ColorRGBA
	TextureResource          string
	Texture                  compressedImage
	UvCoordinates            []uvCoordinate
	Text                     string
	MeshResource             string
	MeshFile                 meshFile
	MeshUseEmbeddedMaterials bool
}

type markerArray struct {
	msg.Package `ros:"visualization_msgs"`
	msg.Name    `ros:"MarkerArray"`
	Markers     []marker
}

func markerToROS2(m *visualization_msgs.Marker) marker {
	return marker{Header: m.Header, Ns: m.Ns, Id: m.Id, Type: m.Type, Action: m.Action, Pose: m.Pose, Scale: m.Scale,
		Color: m.Color, Lifetime: m.Lifetime, FrameLocked: m.FrameLocked, Points: m.Points, Colors: m.Colors,
		Text: m.Text, MeshResource: m.MeshResource, MeshUseEmbeddedMaterials: m.MeshUseEmbeddedMaterials}
}

func markerFromROS2(m *marker) visualization_msgs.Marker {
	return visualization_msgs.Marker{Header: m.Header, Ns: m.Ns, Id: m.Id, Type: m.Type, Action: m.Action, Pose: m.Pose, Scale: m.Scale,
		Color: m.Color, Lifetime: m.Lifetime, FrameLocked: m.FrameLocked, Points: m.Points, Colors: m.Colors,
		Text: m.Text, MeshResource: m.MeshResource, MeshUseEmbeddedMaterials: m.MeshUseEmbeddedMaterials}
}

// adapter converts between a project message and its ROS 2 wire struct.
type adapter struct {
	wire     func() any         // a new wire struct
	toWire   func(m, w any)     // project message -> wire struct
	fromWire func(w any, m any) // wire struct -> project message
}

// adapters is keyed by the project message's pointer type.
var adapters = map[reflect.Type]adapter{
	reflect.TypeOf(&visualization_msgs.Marker{}): {
		wire:     func() any { return &marker{} },
		toWire:   func(m, w any) { *w.(*marker) = markerToROS2(m.(*visualization_msgs.Marker)) },
		fromWire: func(w, m any) { *m.(*visualization_msgs.Marker) = markerFromROS2(w.(*marker)) },
	},
	reflect.TypeOf(&visualization_msgs.MarkerArray{}): {
		wire: func() any { return &markerArray{} },
		toWire: func(m, w any) {
			src, dst := m.(*visualization_msgs.MarkerArray), w.(*markerArray)
			dst.Markers = dst.Markers[:0]
			for i := range src.Markers {
				dst.Markers = append(dst.Markers, markerToROS2(&src.Markers[i]))
			}
		},
		fromWire: func(w, m any) {
			src, dst := w.(*markerArray), m.(*visualization_msgs.MarkerArray)
			dst.Markers = make([]visualization_msgs.Marker, len(src.Markers))
			for i := range src.Markers {
				dst.Markers[i] = markerFromROS2(&src.Markers[i])
			}
		},
	},
}
