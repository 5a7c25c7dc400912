package bench

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"

	"github.com/vla3d/vla3d/internal/rostest"
	"github.com/vla3d/vla3d/transport"
	"github.com/vla3d/vla3d/transport/dial"
)

// The load: 3 cameras of 224x224 rgb8 colour and 16UC1 depth per frame,
// the node's input at 30 Hz.
const (
	cameras = 3
	side    = 224
)

// Environment of the echo peer (this test binary re-executed).
const (
	envEcho   = "VLA3D_BENCH_ECHO"   // transport kind: the process is the echo peer
	envMaster = "VLA3D_BENCH_MASTER" // ROS 1 master host:port
	envDomain = "VLA3D_BENCH_DOMAIN" // ROS 2 domain id
)

func frame(seq int) []*sensor_msgs.Image {
	var out []*sensor_msgs.Image
	for c := range cameras {
		h := std_msgs.Header{Stamp: time.Unix(0, int64(seq)), FrameId: fmt.Sprintf("c%d", c)}
		out = append(out,
			&sensor_msgs.Image{Header: h, Height: side, Width: side, Encoding: "rgb8", Step: side * 3, Data: make([]byte, side*side*3)},
			&sensor_msgs.Image{Header: h, Height: side, Width: side, Encoding: "16UC1", Step: side * 2, Data: make([]byte, side*side*2)})
	}
	return out
}

func open(t testing.TB, kind transport.Kind, name, master string, domain int) transport.Transport {
	t.Helper()
	tr, err := dial.Open(dial.Conf{Kind: kind, Name: name, MasterAddress: master, Host: "127.0.0.1",
		ROS2: transport.ROS2Settings{DomainID: domain, LocalhostOnly: true}})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func topic(i int) string {
	return fmt.Sprintf("/bench/c%d/%s/image_raw", i/2, []string{"color", "depth"}[i%2])
}

// TestMain makes the re-executed test binary the benchmark's echo peer:
// it subscribes to the six image topics and, when a frame's last image
// arrives, publishes its stamp on /bench/ack, until killed.
func TestMain(m *testing.M) {
	if kind := os.Getenv(envEcho); kind != "" {
		if err := echo(transport.Kind(kind)); err != nil {
			fmt.Fprintln(os.Stderr, "echo peer:", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

func echo(kind transport.Kind) error {
	var domain int
	if _, err := fmt.Sscan(os.Getenv(envDomain), &domain); err != nil {
		return err
	}
	tr, err := dial.Open(dial.Conf{Kind: kind, Name: "bench_echo", MasterAddress: os.Getenv(envMaster), Host: "127.0.0.1",
		ROS2: transport.ROS2Settings{DomainID: domain, LocalhostOnly: true}})
	if err != nil {
		return err
	}
	defer tr.Close()
	ack, err := tr.Publish("/bench/ack", &std_msgs.Header{}, transport.Default)
	if err != nil {
		return err
	}
	for i := range 2 * cameras {
		cb := func(any) {}
		if i == 2*cameras-1 {
			cb = func(m any) { _ = ack.Write(&std_msgs.Header{Stamp: m.(*sensor_msgs.Image).Header.Stamp}) }
		}
		s, err := tr.Subscribe(topic(i), func() any { return &sensor_msgs.Image{} }, cb, transport.Default, nil)
		if err != nil {
			return err
		}
		defer s.Close()
	}
	select {} // killed by the benchmark
}

// BenchmarkCameraSet publishes one frame of the node's input (3 x 224x224
// RGB-D: 6 images, 752 KiB) per iteration to a peer process and waits for
// its acknowledgement of the frame's last image: ns/op is the frame's
// round trip (publish, serialise, loopback, deserialise, ack), MB/s the
// image throughput, allocs/op this side's allocations per frame. ROS 1
// (goroslib, TCPROS via a real roscore) and ROS 2 (Cyclone DDS, localhost
// only) run in the same invocation, so compare them as a ratio.
func BenchmarkCameraSet(b *testing.B) {
	for _, kind := range []transport.Kind{transport.ROS1, transport.ROS2} {
		b.Run(string(kind), func(b *testing.B) {
			master, domain := "", 150+rand.IntN(80)
			env := append(os.Environ(), envEcho+"="+string(kind), fmt.Sprintf("%s=%d", envDomain, domain), "ROS_LOCALHOST_ONLY=1")
			if kind == transport.ROS1 {
				rostest.Require(b, "roscore")
				m := rostest.StartMaster(b)
				master = m.Addr()
				env = append(env, envMaster+"="+master)
			}
			tr := open(b, kind, "bench_source", master, domain)
			defer tr.Close()
			acks := make(chan int64, 16)
			sub, err := tr.Subscribe("/bench/ack", func() any { return &std_msgs.Header{} },
				func(m any) { acks <- m.(*std_msgs.Header).Stamp.UnixNano() }, transport.Default, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer sub.Close()
			var pubs []transport.Publisher
			for i := range 2 * cameras {
				p, err := tr.Publish(topic(i), &sensor_msgs.Image{}, transport.Default)
				if err != nil {
					b.Fatal(err)
				}
				defer p.Close()
				pubs = append(pubs, p)
			}
			peer := exec.Command(os.Args[0])
			peer.Env = env
			peer.Stderr = os.Stderr
			if err := peer.Start(); err != nil {
				b.Fatal(err)
			}
			defer func() { _ = peer.Process.Kill(); _ = peer.Wait() }()
			send := func(seq int) {
				for i, m := range frame(seq) {
					if err := pubs[i].Write(m); err != nil {
						b.Fatal(err)
					}
				}
			}
			// Warm up until the peer acknowledges (discovery, connections).
			deadline := time.Now().Add(30 * time.Second)
		warm:
			for seq := 1; ; seq++ {
				send(seq)
				select {
				case <-acks:
					break warm
				case <-time.After(100 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					b.Fatal("the echo peer never acknowledged a frame")
				}
			}
			for len(acks) > 0 {
				<-acks
			}
			b.SetBytes(int64(cameras * side * side * 5))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				seq := 1_000_000 + i
				send(seq)
				for got := int64(-1); got != int64(seq); {
					select {
					case got = <-acks:
					case <-time.After(5 * time.Second):
						b.Fatalf("frame %d not acknowledged", seq)
					}
				}
			}
			// Closing (ROS 2 writers linger to deliver what is unacknowledged)
			// is not part of the measurement.
			b.StopTimer()
		})
	}
}
