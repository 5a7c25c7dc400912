package timesync

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"
)

// msg is a test message: its stamp in whole seconds and the input it came on.
type msg struct {
	t     int
	topic int
}

func stampOf(m msg) time.Time { return time.Unix(int64(m.t), 0) }

// run feeds the (stamp, topic) sequence and returns the emitted stamp sets.
func run(t *testing.T, n int, cfg Config, in []msg) ([][]int, *ApproxTimeSync[msg]) {
	t.Helper()
	var out [][]int
	s, err := New(n, cfg, stampOf, func(set []msg) {
		row := make([]int, len(set))
		for i, m := range set {
			if m.topic != i {
				t.Fatalf("set slot %d holds a message of input %d", i, m.topic)
			}
			row[i] = m.t
		}
		out = append(out, row)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range in {
		if err := s.Add(m.topic, m); err != nil {
			t.Fatal(err)
		}
	}
	return out, s
}

func cfgQ(q int) Config { c := DefaultConfig(); c.QueueSize = q; return c }

// The sequences below are the documented examples of ROS message_filters'
// ApproximateTime policy (stamps in seconds; letters name messages).
func TestROSExamples(t *testing.T) {
	sec := time.Second
	tests := []struct {
		name string
		n    int
		cfg  Config
		in   []msg
		want [][]int
	}{
		{"exact match", 2, cfgQ(10),
			[]msg{{0, 0}, {0, 1}, {3, 0}, {3, 1}, {6, 0}, {6, 1}},
			[][]int{{0, 0}, {3, 3}, {6, 6}}},
		{"perfect match", 2, cfgQ(10),
			[]msg{{0, 0}, {1, 1}, {3, 0}, {4, 1}, {6, 0}, {7, 1}},
			[][]int{{0, 1}, {3, 4}}},
		{"imperfect match", 2, cfgQ(10),
			[]msg{{0, 0}, {1, 1}, {2, 0}, {3, 0}, {5, 1}, {6, 0}, {7, 1}},
			[][]int{{0, 1}, {6, 5}}},
		{"acceleration", 2, cfgQ(10),
			[]msg{{0, 0}, {7, 1}, {12, 0}, {15, 1}, {17, 0}, {18, 1}},
			[][]int{{12, 7}, {17, 18}}},
		{"dropped messages, queue 1", 2, cfgQ(1),
			[]msg{{0, 0}, {1, 1}, {3, 1}, {4, 0}, {7, 1}, {8, 0}, {10, 0}, {11, 1}, {13, 0}, {14, 1}},
			[][]int{{4, 3}, {10, 11}}},
		{"dropped messages, queue 2", 2, cfgQ(2),
			[]msg{{0, 0}, {1, 1}, {3, 1}, {4, 0}, {7, 1}, {8, 0}, {10, 0}, {11, 1}, {13, 0}, {14, 1}},
			[][]int{{0, 1}, {4, 3}, {8, 7}, {10, 11}}},
		{"long queue", 2, cfgQ(5),
			[]msg{{0, 0}, {1, 0}, {2, 0}, {3, 0}, {4, 0}, {5, 0}, {6, 0}, {7, 0}, {8, 0}, {3, 1},
				{9, 0}, {10, 0}, {11, 0}, {12, 0}, {10, 1}, {13, 0}},
			[][]int{{10, 10}}},
		{"double publish", 2, cfgQ(10),
			[]msg{{0, 0}, {1, 1}, {3, 1}, {3, 0}},
			[][]int{{0, 1}, {3, 3}}},
		{"four topics", 4, cfgQ(10),
			[]msg{{0, 0}, {1, 1}, {2, 2}, {3, 3}, {5, 0}, {5, 3}, {6, 1}, {6, 2}, {8, 0}, {9, 1},
				{10, 2}, {11, 3}, {10, 0}, {13, 0}, {14, 1}},
			[][]int{{0, 1, 2, 3}, {5, 6, 6, 5}, {10, 9, 10, 11}}},
		{"early publish", 4, cfgQ(10),
			[]msg{{0, 0}, {1, 1}, {2, 2}, {3, 3}, {7, 0}},
			[][]int{{0, 1, 2, 3}}},
		{"rate bound 1.5 on A", 2, Config{QueueSize: 10, AgePenalty: 0.1, InterMessageLowerBounds: []time.Duration{3 * sec / 2, 0}},
			[]msg{{0, 0}, {1, 1}, {3, 0}, {4, 1}, {6, 0}, {7, 1}},
			[][]int{{0, 1}, {3, 4}}},
		{"rate bound 2 on A", 2, Config{QueueSize: 10, AgePenalty: 0.1, InterMessageLowerBounds: []time.Duration{2 * sec, 0}},
			[]msg{{0, 0}, {1, 1}, {3, 0}, {4, 1}, {6, 0}, {7, 1}},
			[][]int{{0, 1}, {3, 4}, {6, 7}}},
		{"rate bound 2 on all", 2, Config{QueueSize: 10, AgePenalty: 0.1, InterMessageLowerBounds: []time.Duration{2 * sec, 2 * sec}},
			[]msg{{0, 0}, {1, 1}, {3, 0}, {4, 1}, {6, 0}, {7, 1}},
			[][]int{{0, 1}, {3, 4}, {6, 7}}},
		// Edge cases beyond the ROS examples.
		{"max interval exceeded discards the old head", 2, Config{QueueSize: 10, AgePenalty: 0.1, MaxInterval: 2 * sec},
			[]msg{{0, 0}, {5, 1}, {6, 0}, {10, 1}, {11, 0}},
			[][]int{{6, 5}}},
		{"max interval never met", 2, Config{QueueSize: 10, AgePenalty: 0.1, MaxInterval: sec / 2},
			[]msg{{0, 0}, {1, 1}, {2, 0}, {3, 1}, {4, 0}, {5, 1}},
			nil},
		{"out of order stamp still used", 2, cfgQ(10),
			[]msg{{5, 0}, {4, 0}, {5, 1}, {9, 0}, {9, 1}},
			[][]int{{5, 5}, {9, 9}}}, // the late 4 is superseded, not reordered
		{"single input never completes", 3, cfgQ(10),
			[]msg{{0, 0}, {1, 0}, {0, 1}, {1, 1}},
			nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := run(t, tc.n, tc.cfg, tc.in)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStatsCountDropsAndDisorder(t *testing.T) {
	_, s := run(t, 2, cfgQ(1), []msg{{0, 0}, {1, 1}, {3, 1}, {4, 0}, {7, 1}, {8, 0}, {10, 0}, {11, 1}, {13, 0}, {14, 1}})
	st := s.Stats()
	if st.Sets != 2 || st.Dropped[0]+st.Dropped[1] == 0 {
		t.Fatalf("stats %+v: want 2 sets and some drops", st)
	}
	_, s = run(t, 2, cfgQ(10), []msg{{5, 0}, {4, 0}})
	if got := s.Stats().OutOfOrder[0]; got != 1 {
		t.Fatalf("out of order count %d, want 1", got)
	}
}

func TestConfigErrors(t *testing.T) {
	emit := func([]msg) {}
	for _, tc := range []struct {
		n   int
		cfg Config
	}{
		{1, DefaultConfig()},
		{2, Config{QueueSize: 0}},
		{2, Config{QueueSize: 1, AgePenalty: -1}},
		{2, Config{QueueSize: 1, InterMessageLowerBounds: []time.Duration{1}}},
	} {
		if _, err := New(tc.n, tc.cfg, stampOf, emit); err == nil {
			t.Errorf("New(%d, %+v) accepted a bad configuration", tc.n, tc.cfg)
		}
	}
	s, err := New(2, DefaultConfig(), stampOf, emit)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(2, msg{}); err == nil {
		t.Error("Add accepted an input index out of range")
	}
}

// Property: on random streams, every emitted set has one message per input,
// sets come out in increasing order per input, no message is emitted twice,
// every set respects MaxInterval, and queues never exceed QueueSize.
func TestPropertiesRandomStreams(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for trial := 0; trial < 200; trial++ {
		n := 2 + rng.Intn(4)
		cfg := Config{QueueSize: 1 + rng.Intn(6), AgePenalty: rng.Float64() * 0.5}
		if rng.Intn(2) == 0 {
			cfg.MaxInterval = time.Duration(1+rng.Intn(5)) * time.Second
		}
		var in []msg
		next := make([]int, n)
		for k := 0; k < 60; k++ {
			i := rng.Intn(n)
			next[i] += 1 + rng.Intn(4)
			in = append(in, msg{next[i], i})
		}
		out, s := run(t, n, cfg, in)
		last := make([]int, n)
		for i := range last {
			last[i] = -1
		}
		for _, set := range out {
			if cfg.MaxInterval > 0 && time.Duration(slices.Max(set)-slices.Min(set))*time.Second > cfg.MaxInterval {
				t.Fatalf("trial %d: set %v exceeds max interval %v", trial, set, cfg.MaxInterval)
			}
			for i, v := range set {
				if v <= last[i] {
					t.Fatalf("trial %d: input %d emitted %d after %d", trial, i, v, last[i])
				}
				last[i] = v
			}
		}
		for i := range s.q {
			if s.q[i].n > cfg.QueueSize {
				t.Fatalf("trial %d: queue %d holds %d > %d", trial, i, s.q[i].n, cfg.QueueSize)
			}
		}
	}
}

// Determinism: the same sequence gives the same sets.
func TestDeterministic(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	var in []msg
	for k := 0; k < 100; k++ {
		in = append(in, msg{k + rng.Intn(3), rng.Intn(3)})
	}
	a, _ := run(t, 3, cfgQ(4), in)
	b, _ := run(t, 3, cfgQ(4), in)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatal("two runs over the same input differ")
	}
}

func FuzzApproxTimeSync(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7}, uint8(2), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, nIn, qs uint8) {
		n := 2 + int(nIn%5)
		cfg := Config{QueueSize: 1 + int(qs%8), AgePenalty: 0.1, MaxInterval: time.Duration(qs%4) * time.Second}
		s, err := New(n, cfg, stampOf, func(set []msg) {
			for i, m := range set {
				if m.topic != i {
					t.Fatalf("slot %d holds input %d", i, m.topic)
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k+1 < len(data); k += 2 {
			i := int(data[k]) % n
			if err := s.Add(i, msg{int(data[k+1]), i}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// BenchmarkAdd streams 6 inputs (3 cameras x colour/depth) with jitter.
func BenchmarkAdd(b *testing.B) {
	const n = 6
	sets := 0
	s, err := New(n, cfgQ(5), func(m msg) time.Time { return time.Unix(0, int64(m.t)) }, func([]msg) { sets++ })
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for k := 0; k < b.N; k++ {
		frame := k / n
		i := k % n
		_ = s.Add(i, msg{frame*33_000_000 + i*1_000_000, i})
	}
	if b.N > 10*n && sets == 0 {
		b.Fatal("no sets emitted")
	}
}
