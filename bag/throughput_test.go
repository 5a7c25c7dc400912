package bag_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"

	"github.com/vla3d/vla3d/bag"
	"github.com/vla3d/vla3d/dataset/synth"
)

// benchBag writes the reference recording: 3 cameras of 224x224
// RGB-D (rgb8 + 32FC1) with calibration, at 10 Hz for 10 s, plus pose, tf and
// actions.
func benchBag(b *testing.B, compression string) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "rgbd3x224.bag")
	cfg := synth.Config{Episodes: 1, Steps: 100, Cameras: []string{"front", "left", "wrist"},
		Width: 224, Height: 224, Compression: compression}
	if err := cfg.Write(path); err != nil {
		b.Fatal(err)
	}
	return path
}

// pyRawRead reads every message without deserializing it (raw=True), the
// same work as our iterator, and prints bytes and count.
const pyRawRead = `
import sys, time, rosbag
t = time.perf_counter()
n = size = 0
with rosbag.Bag(sys.argv[1]) as b:
    for topic, raw, ts in b.read_messages(raw=True):
        n += 1
        size += len(raw[1])
print(n, size, time.perf_counter() - t)
`

func benchRead(b *testing.B, compression string) {
	path := benchBag(b, compression)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	var msgs, payload int
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		r, err := bag.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		it := r.Messages(context.Background(), bag.Query{})
		msgs, payload = 0, 0
		for it.Next() {
			msgs++
			payload += len(it.Message().Data)
		}
		if err := it.Err(); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
	per := time.Since(start).Seconds() / float64(b.N)
	b.StopTimer()
	// MB/s counts file bytes; payload_MB/s the message bytes delivered (they
	// differ for compressed chunks).
	b.ReportMetric(float64(st.Size())/1e6/per, "MB/s")
	b.ReportMetric(float64(payload)/1e6/per, "payload_MB/s")
	b.ReportMetric(float64(msgs)/per, "msgs/s")
	// The real rosbag (Python API) on the same file, in the same run.
	if _, err := exec.LookPath("rosbag"); err != nil {
		b.Logf("rosbag not installed; no comparison")
		return
	}
	out, err := exec.Command("/usr/bin/python3", "-c", pyRawRead, path).Output()
	if err != nil {
		b.Logf("python rosbag read failed: %v", err)
		return
	}
	f := strings.Fields(string(out))
	if len(f) != 3 {
		b.Fatalf("python output %q", out)
	}
	n, _ := strconv.Atoi(f[0])
	secs, _ := strconv.ParseFloat(f[2], 64)
	if n != msgs {
		b.Fatalf("rosbag read %d messages, we read %d", n, msgs)
	}
	b.ReportMetric(float64(st.Size())/1e6/secs, "rosbag_MB/s")
	b.ReportMetric(secs/per, "x_vs_rosbag")
}

// BenchmarkReadThroughput: indexed read of every message of the reference
// recording, against the python rosbag API doing the same.
func BenchmarkReadThroughput(b *testing.B) {
	b.Run("none", func(b *testing.B) { benchRead(b, bag.CompressionNone) })
	b.Run("lz4", func(b *testing.B) { benchRead(b, bag.CompressionLZ4) })
}

// BenchmarkDecodeImage: ROS 1 deserialization of one 224x224 rgb8 image.
func BenchmarkDecodeImage(b *testing.B) {
	img := &sensor_msgs.Image{Width: 224, Height: 224, Encoding: "rgb8", Step: 672, Data: make([]byte, 224*224*3)}
	data, err := bag.EncodeROS1(img)
	if err != nil {
		b.Fatal(err)
	}
	var types bag.TypeCache
	ti, _ := types.Info(img)
	m := bag.Message{Conn: &bag.Connection{Topic: "/c", Type: ti.Type, MD5Sum: ti.MD5Sum}, Data: data}
	var out sensor_msgs.Image
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Decode(&types, &out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenInfo: opening the reference bag (reading its index), against
// `rosbag info`, which does the same plus formatting.
func BenchmarkOpenInfo(b *testing.B) {
	path := benchBag(b, bag.CompressionNone)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		r, err := bag.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		_ = r.Info()
		r.Close()
	}
	per := time.Since(start).Seconds() / float64(b.N)
	b.StopTimer()
	if _, err := exec.LookPath("rosbag"); err != nil {
		return
	}
	t := time.Now()
	if err := exec.Command("rosbag", "info", path).Run(); err != nil {
		b.Logf("rosbag info: %v", err)
		return
	}
	b.ReportMetric(time.Since(t).Seconds()/per, "x_vs_rosbag_info")
}
