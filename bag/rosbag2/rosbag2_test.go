package rosbag2

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bluenviron/goroslib/v2/pkg/msgs/sensor_msgs"
	"github.com/bluenviron/goroslib/v2/pkg/msgs/std_msgs"

	"github.com/vla3d/vla3d/bag"
)

func writeSample(t testing.TB, dir, storage string, n int) time.Time {
	t.Helper()
	w, err := Create(dir, WriterOptions{Storage: storage})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_700_000_000, 0)
	if err := w.WriteMsg("/instruction", t0, &std_msgs.String{Data: "pick the cube"}, true); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		img := &sensor_msgs.Image{Header: std_msgs.Header{Stamp: t0.Add(time.Duration(i) * 100 * time.Millisecond), FrameId: "cam"},
			Height: 2, Width: 2, Encoding: "rgb8", Step: 6, Data: []byte{byte(i), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}}
		if err := w.WriteMsg("/front/color/image_raw", img.Header.Stamp, img, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return t0
}

func TestRoundTrip(t *testing.T) {
	for _, storage := range []string{StorageMCAP, StorageSQLite} {
		t.Run(storage, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "episode")
			t0 := writeSample(t, dir, storage, 10)
			m, err := ReadMetadata(dir)
			if err != nil {
				t.Fatal(err)
			}
			if m.StorageIdentifier != storage || m.MessageCount != 11 || len(m.Topics) != 2 || m.Topics[1].Topic.Type != "sensor_msgs/msg/Image" {
				t.Fatalf("metadata %+v", m)
			}
			if !IsRecording(dir) {
				t.Fatal("IsRecording false")
			}
			src, err := Open(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			info := src.Info()
			if info.Messages != 11 || info.Topics["/front/color/image_raw"].Messages != 10 || info.Path != dir && storage == StorageMCAP {
				t.Fatalf("info %+v", info)
			}
			var types bag.TypeCache
			it := src.Read(context.Background(), bag.Query{Topics: []string{"/front/color/image_raw"}, Start: t0.Add(200 * time.Millisecond), End: t0.Add(500 * time.Millisecond)})
			var got []byte
			for it.Next() {
				var img sensor_msgs.Image
				if err := it.Message().Decode(&types, &img); err != nil {
					t.Fatal(err)
				}
				got = append(got, img.Data[0])
			}
			if err := it.Err(); err != nil {
				t.Fatal(err)
			}
			if string(got) != string([]byte{2, 3, 4, 5}) {
				t.Fatalf("images %v, want 2..5", got)
			}
		})
	}
}

func TestOpenRefusesClearly(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir, nil); err == nil {
		t.Error("a directory without metadata.yaml opened")
	}
	bad := filepath.Join(dir, "x.db3")
	if err := os.WriteFile(bad, []byte("not a database at all, just text"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(bad, nil); err == nil {
		t.Error("a text file opened as .db3")
	}
	comp := filepath.Join(dir, "comp")
	writeSample(t, comp, StorageMCAP, 1)
	m, _ := ReadMetadata(comp)
	m.CompressionFormat, m.CompressionMode = "zstd", "file"
	if err := writeMetadata(comp, m); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(comp, nil); err == nil {
		t.Error("a compressed recording opened")
	}
}

// TestTruncatedDB3KeepsReadableMessages: a .db3 cut short (a recorder
// killed mid-write) either opens and yields what is readable, or fails with
// an error; it never panics.
func TestTruncatedDB3(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ep")
	writeSample(t, dir, StorageSQLite, 200)
	file := filepath.Join(dir, "ep_0.db3")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := Open(dir, nil)
	if err != nil {
		t.Logf("truncated db3 refused: %v", err)
		return
	}
	defer src.Close()
	it := src.Read(context.Background(), bag.Query{})
	n := 0
	for it.Next() {
		n++
	}
	t.Logf("truncated db3: %d messages read, err %v", n, it.Err())
}

func FuzzReadMetadata(f *testing.F) {
	dir := filepath.Join(f.TempDir(), "seed")
	writeSample(f, dir, StorageMCAP, 1)
	seed, _ := os.ReadFile(filepath.Join(dir, MetadataFile))
	f.Add(seed)
	f.Add([]byte("rosbag2_bagfile_information: {storage_identifier: sqlite3, relative_file_paths: [../../etc/passwd]}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, MetadataFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if src, err := Open(d, nil); err == nil {
			src.Close()
		}
	})
}
