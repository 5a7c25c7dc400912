package record

import (
	"bytes"
	"context"
	"testing"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"

	"github.com/vla3d/vla3d/bag"
	"github.com/vla3d/vla3d/contract"
	"github.com/vla3d/vla3d/dataset"
	"github.com/vla3d/vla3d/sim"
)

// TestRecordFormatsAgree records one episode as a ROS 1 bag and as rosbag2
// with MCAP and sqlite3 storage: the dataset reads the same messages from
// all three (same topics, counts and times; identical CDR between the two
// rosbag2 storages; identical images in all).
func TestRecordFormatsAgree(t *testing.T) {
	env, err := sim.New(sim.Config{Width: 32, Height: 24})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	ctx := context.Background()
	type msg struct {
		topic string
		ns    int64
		data  []byte
		image []byte
	}
	read := func(format string) []msg {
		eps, err := Run(ctx, env, Config{Dir: t.TempDir(), Task: sim.TaskPickPlace, Split: sim.SplitNone, Episodes: 1, Seed: 5, MaxSteps: 20, KeepFailed: true, Format: format})
		if err != nil {
			t.Fatal(err)
		}
		src, err := dataset.OpenSource(eps[0].Path, nil)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		defer src.Close()
		var types bag.TypeCache
		var out []msg
		it := src.Read(ctx, bag.Query{})
		for it.Next() {
			m := it.Message()
			r := msg{topic: m.Conn.Topic, ns: m.Time.UnixNano(), data: m.Data}
			if m.Conn.Topic == contract.ColorTopic("front") {
				var img sensor_msgs.Image
				if err := m.Decode(&types, &img); err != nil {
					t.Fatalf("%s: %v", format, err)
				}
				r.image = img.Data
			}
			out = append(out, r)
		}
		if err := it.Err(); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		return out
	}
	ros1, mcap, db3 := read(FormatBag), read(FormatRosbag2), read(FormatRosbag2SQLite)
	if len(ros1) == 0 || len(ros1) != len(mcap) || len(mcap) != len(db3) {
		t.Fatalf("messages: bag %d, rosbag2/mcap %d, rosbag2/sqlite3 %d", len(ros1), len(mcap), len(db3))
	}
	count := func(ms []msg) map[string]int {
		c := map[string]int{}
		for _, m := range ms {
			c[m.topic]++
		}
		return c
	}
	c1, c2 := count(ros1), count(mcap)
	for topic, n := range c1 {
		if c2[topic] != n {
			t.Errorf("%s: %d in the bag, %d in rosbag2", topic, n, c2[topic])
		}
	}
	images := 0
	for i := range mcap {
		if mcap[i].topic != db3[i].topic || mcap[i].ns != db3[i].ns || !bytes.Equal(mcap[i].data, db3[i].data) {
			t.Fatalf("message %d differs between the MCAP and sqlite3 storages (%s / %s)", i, mcap[i].topic, db3[i].topic)
		}
		if mcap[i].image != nil {
			images++
		}
	}
	var ros1Images, mcapImages [][]byte
	for i := range ros1 {
		if ros1[i].image != nil {
			ros1Images = append(ros1Images, ros1[i].image)
		}
		if mcap[i].image != nil {
			mcapImages = append(mcapImages, mcap[i].image)
		}
	}
	if images == 0 || len(ros1Images) != len(mcapImages) {
		t.Fatalf("front images: bag %d, rosbag2 %d", len(ros1Images), len(mcapImages))
	}
	for i := range ros1Images {
		if !bytes.Equal(ros1Images[i], mcapImages[i]) {
			t.Fatalf("front image %d differs between the bag and rosbag2", i)
		}
	}
}
