package ros2

import (
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/visualization_msgs"

	"github.com/vla3d/vla3d/bag/cdr"
	"github.com/vla3d/vla3d/transport"
)

func TestDDSTypeName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"sensor_msgs/Image", "sensor_msgs::msg::dds_::Image_"},
		{"tf2_msgs/msg/TFMessage", "tf2_msgs::msg::dds_::TFMessage_"},
	} {
		got, err := DDSTypeName(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("DDSTypeName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "Image", "/Image", "a/b/c"} {
		if _, err := DDSTypeName(bad); err == nil {
			t.Errorf("DDSTypeName(%q): no error", bad)
		}
	}
	if n, err := TypeName(&visualization_msgs.MarkerArray{}); err != nil || n != "visualization_msgs::msg::dds_::MarkerArray_" {
		t.Errorf("TypeName(MarkerArray) = %q, %v", n, err)
	}
}

func TestResolveTopic(t *testing.T) {
	for _, tc := range []struct{ topic, ns, node, want string }{
		{"/tf", "/", "n", "/tf"},
		{"chatter", "/", "n", "/chatter"},
		{"chatter", "/robot1", "n", "/robot1/chatter"},
		{"~/markers", "/robot1", "vla3d", "/robot1/vla3d/markers"},
		{"/front/color/image_raw", "/x", "n", "/front/color/image_raw"},
	} {
		got, err := ResolveTopic(tc.topic, tc.ns, tc.node)
		if err != nil || got != tc.want {
			t.Errorf("ResolveTopic(%q, %q) = %q, %v; want %q", tc.topic, tc.ns, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "/a//b", "/1abc", "/a-b"} {
		if _, err := ResolveTopic(bad, "/", "n"); err == nil {
			t.Errorf("ResolveTopic(%q): no error", bad)
		}
	}
}

func TestConfFromEnv(t *testing.T) {
	env := map[string]string{"ROS_DOMAIN_ID": "42", "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST", "ROS_DISTRO": "humble"}
	var c Conf
	if err := c.FromEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.Domain != 42 || !c.LocalhostOnly || c.Distro != "humble" {
		t.Fatalf("%+v", c)
	}
	env["ROS_DOMAIN_ID"] = "300"
	if err := (&Conf{}).FromEnv(func(k string) string { return env[k] }); err == nil {
		t.Fatal("domain 300 accepted")
	}
}

func newNode(t *testing.T, name string) *Transport {
	t.Helper()
	tr, err := New(Conf{Name: name, Domain: 78, LocalhostOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPublishSubscribe(t *testing.T) {
	a, b := newNode(t, "pub"), newNode(t, "sub")
	got := make(chan any, 16)
	subImg, err := b.Subscribe("/cam/color/image_raw", func() any { return &sensor_msgs.Image{} }, func(m any) { got <- m }, transport.SensorData, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer subImg.Close()
	subMk, err := b.Subscribe("/markers", func() any { return &visualization_msgs.MarkerArray{} }, func(m any) { got <- m }, transport.Default, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer subMk.Close()
	pImg, err := a.Publish("/cam/color/image_raw", &sensor_msgs.Image{}, transport.SensorData)
	if err != nil {
		t.Fatal(err)
	}
	pMk, err := a.Publish("/markers", &visualization_msgs.MarkerArray{}, transport.Default)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "matching", func() bool {
		return pImg.(Matcher).Matched() == 1 && pMk.(Matcher).Matched() == 1 && subImg.(Matcher).Matched() == 1
	})
	img := &sensor_msgs.Image{Header: std_msgs.Header{FrameId: "cam"}, Height: 2, Width: 3, Encoding: "rgb8", Step: 9, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}}
	if err := pImg.Write(img); err != nil {
		t.Fatal(err)
	}
	mk := &visualization_msgs.MarkerArray{Markers: []visualization_msgs.Marker{{Ns: "probe", Id: 3, Text: "#3 0.9", Lifetime: 500 * time.Millisecond}}}
	if err := pMk.Write(mk); err != nil {
		t.Fatal(err)
	}
	if err := pImg.Write(&std_msgs.String{}); err == nil {
		t.Fatal("wrong type accepted")
	}
	for range 2 {
		select {
		case m := <-got:
			switch m := m.(type) {
			case *sensor_msgs.Image:
				if m.Width != 3 || m.Header.FrameId != "cam" || string(m.Data) != string(img.Data) {
					t.Fatalf("image %+v", m)
				}
			case *visualization_msgs.MarkerArray:
				if len(m.Markers) != 1 || m.Markers[0].Text != "#3 0.9" || m.Markers[0].Lifetime != 500*time.Millisecond {
					t.Fatalf("markers %+v", m)
				}
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no message")
		}
	}
}

func TestDiscoveryInfoLayouts(t *testing.T) {
	var p [16]byte
	p[0] = 1
	for _, tc := range []struct {
		distro string
		size   int // bytes of one gid on the wire
	}{{"humble", 24}, {"jazzy", 16}} {
		b, err := cdr.Encode(discoveryInfo(tc.distro, p, "/", "vla3d_node", [][16]byte{p}, nil))
		if err != nil {
			t.Fatal(err)
		}
		// header 4 + gid + seq count 4 + ns (4+2) pad 2 + name (4+11) pad 1 + readers 4+gid + writers 4
		want := 4 + tc.size + 4 + 6 + 2 + 15 + 1 + 4 + tc.size + 4
		if len(b) != want {
			t.Errorf("%s: %d bytes, want %d", tc.distro, len(b), want)
		}
	}
}
