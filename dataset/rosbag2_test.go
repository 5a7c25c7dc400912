package dataset

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"

	"github.com/vla3d/vla3d/bag/rosbag2"
)

// TestExpandPathsRosbag2: a rosbag2 directory is one recording (its .mcap
// or .db3 storage is not listed again); bare .db3 files are recordings.
func TestExpandPathsRosbag2(t *testing.T) {
	root := t.TempDir()
	for _, name := range []string{"a", "sub/b"} {
		w, err := rosbag2.Create(filepath.Join(root, name), rosbag2.WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteMsg("/instruction", time.Unix(1, 0), &std_msgs.String{Data: "x"}, true); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "c.db3"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ExpandPaths([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(root, "a"), filepath.Join(root, "c.db3"), filepath.Join(root, "sub/b")}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ExpandPaths = %v, want %v", got, want)
	}
	src, err := OpenSource(want[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if n := src.Info().Topics["/instruction"].Messages; n != 1 {
		t.Fatalf("%d instruction messages", n)
	}
}
