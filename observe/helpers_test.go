package observe

import (
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/geometry_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"

	"github.com/vla3d/vla3d/observe/observetest"
)

// testConfig is a valid config for n cameras named c0..c{n-1}.
func testConfig(n int) Config {
	var cfg Config
	for i := range n {
		cam := DefaultCamera("c" + string(rune('0'+i)))
		cam.OpticalFrame = observetest.OpticalFrame(cam.Name)
		cfg.Cameras = append(cfg.Cameras, cam)
	}
	cfg.defaults()
	return cfg
}

func camMsgs(name string, size int, stamp time.Time) (*sensor_msgs.Image, *sensor_msgs.Image, *sensor_msgs.CameraInfo) {
	return observetest.CamMsgs(name, size, stamp)
}

func eePose(frame string, stamp time.Time) *geometry_msgs.PoseStamped {
	return observetest.EEPose(frame, stamp)
}

type fakeClock = observetest.Clock
