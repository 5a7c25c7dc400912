package ros2

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"

	"github.com/vla3d/vla3d/transport"
)

// envFlood makes the re-executed test binary a publisher of large images
// on the given domain, until it is killed.
const envFlood = "VLA3D_ROS2_FLOOD_DOMAIN"

func TestMain(m *testing.M) {
	if d := os.Getenv(envFlood); d != "" {
		if err := flood(d); err != nil {
			fmt.Fprintln(os.Stderr, "flood:", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

// floodImage is a 1280x720 rgb8 image whose bytes all equal its sequence
// number mod 251, so a reader can tell a whole image from a torn one.
func floodImage(seq int) *sensor_msgs.Image {
	return &sensor_msgs.Image{Header: std_msgs.Header{Stamp: time.Unix(0, int64(seq)), FrameId: "flood"},
		Height: 720, Width: 1280, Encoding: "rgb8", Step: 3840, Data: bytes.Repeat([]byte{byte(seq % 251)}, 1280*720*3)}
}

func flood(domain string) error {
	d, err := strconv.Atoi(domain)
	if err != nil {
		return err
	}
	tr, err := New(Conf{Name: "flood", Domain: uint32(d), LocalhostOnly: true})
	if err != nil {
		return err
	}
	p, err := tr.Publish("/flood", &sensor_msgs.Image{}, transport.SensorData)
	if err != nil {
		return err
	}
	for seq := 1; ; seq++ { // seq 0 would be the zero time, which CDR writes as 0 s
		_ = p.Write(floodImage(seq))
	}
}

// TestPeerVanishesMidFragment: a publisher process streaming 2.7 MB images
// (hundreds of RTPS fragments each) is killed while writing. The reader
// must deliver only whole images, keep running, and hear the next
// publisher on the topic.
func TestPeerVanishesMidFragment(t *testing.T) {
	domain := 60 + rand.IntN(40)
	tr, err := New(Conf{Name: "vanish_reader", Domain: uint32(domain), LocalhostOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	var mu sync.Mutex
	whole, torn, decodeErrs := 0, 0, 0
	sub, err := tr.Subscribe("/flood", func() any { return &sensor_msgs.Image{} }, func(m any) {
		img := m.(*sensor_msgs.Image)
		want := byte(img.Header.Stamp.UnixNano() % 251)
		ok := len(img.Data) == 1280*720*3 && bytes.Count(img.Data, []byte{want}) == len(img.Data)
		mu.Lock()
		if ok {
			whole++
		} else {
			torn++
			t.Logf("torn image: seq %d, %d bytes", img.Header.Stamp.UnixNano(), len(img.Data))
		}
		mu.Unlock()
	}, transport.SensorData, func(error) { mu.Lock(); decodeErrs++; mu.Unlock() })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	counts := func() (int, int, int) { mu.Lock(); defer mu.Unlock(); return whole, torn, decodeErrs }

	run := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", envFlood, domain))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	for round := range 2 {
		before, _, _ := counts()
		cmd := run()
		deadline := time.Now().Add(20 * time.Second)
		for {
			if w, _, _ := counts(); w >= before+3 {
				break
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("round %d: no whole image from the publisher within 20 s", round)
			}
			time.Sleep(10 * time.Millisecond)
		}
		_ = cmd.Process.Kill() // mid-stream: almost surely mid-image
		_ = cmd.Wait()
		time.Sleep(500 * time.Millisecond)
	}
	w, tornN, errs := counts()
	if tornN > 0 || errs > 0 {
		t.Errorf("%d torn images and %d undecodable samples delivered (of %d)", tornN, errs, w+tornN)
	}
	t.Logf("two publishers killed mid-stream: %d whole images delivered, %d torn, %d undecodable; the reader heard the second publisher", w, tornN, errs)
}
