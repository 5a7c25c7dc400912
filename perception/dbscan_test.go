package perception

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestDBSCANHandComputed(t *testing.T) {
	// Line points with eps 1.1, minPts 3: 0,1,2 form a cluster (1 is core: 0,1,2),
	// 0 and 2 are border; 10,11,12,13 second cluster; 30 is noise.
	xs := []float32{0, 1, 2, 10, 11, 12, 13, 30}
	pts := make([]float32, 0, 3*len(xs))
	for _, x := range xs {
		pts = append(pts, x, 0, 0)
	}
	d := DBSCAN{Eps: 1.1, MinPts: 3}
	labels := make([]int, len(xs))
	k, err := d.Cluster(pts, labels)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{0, 0, 0, 1, 1, 1, 1, Noise}
	if k != 2 {
		t.Fatalf("k = %d", k)
	}
	for i := range want {
		if labels[i] != want[i] {
			t.Fatalf("labels = %v want %v", labels, want)
		}
	}
	if LargestCluster(labels, k) != 1 {
		t.Fatalf("largest = %d", LargestCluster(labels, k))
	}
	if _, err := (&DBSCAN{Eps: 0, MinPts: 3}).Cluster(pts, labels); !errors.Is(err, ErrBadShape) {
		t.Fatalf("eps 0 err = %v", err)
	}
	bad := []float32{0, 0, float32(math.NaN())}
	if _, err := d.Cluster(bad, labels); !errors.Is(err, ErrBadShape) {
		t.Fatalf("NaN err = %v", err)
	}
	if k, err := d.Cluster(nil, labels); k != 0 || err != nil {
		t.Fatalf("empty = %d %v", k, err)
	}
}

// Gaussian blobs far apart plus uniform outliers: each blob must be one
// cluster and the sparse outliers noise.
func TestDBSCANBlobs(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	centres := [][3]float32{{0, 0, 0}, {1, 0, 0}, {0, 1, 0.5}}
	var pts []float32
	var truth []int
	for c, ctr := range centres {
		for range 200 {
			for a := range 3 {
				pts = append(pts, ctr[a]+float32(rng.NormFloat64()*0.02))
			}
			truth = append(truth, c)
		}
	}
	// Outliers on a coarse lattice far from the blobs and from each other.
	for i := range 10 {
		pts = append(pts, 3+float32(i), -3, 2)
		truth = append(truth, Noise)
	}
	d := DBSCAN{Eps: 0.03, MinPts: 5}
	labels := make([]int, len(truth))
	k, err := d.Cluster(pts, labels)
	if err != nil {
		t.Fatal(err)
	}
	if k < 3 {
		t.Fatalf("found %d clusters", k)
	}
	// Map every blob to the cluster most of its points got, and require >= 97% agreement.
	for c := range centres {
		votes := map[int]int{}
		for i, tr := range truth {
			if tr == c {
				votes[labels[i]]++
			}
		}
		best, n := 0, 0
		for l, v := range votes {
			if v > n && l != Noise {
				best, n = l, v
			}
		}
		if n < 194 {
			t.Fatalf("blob %d: best cluster %d holds %d/200 (votes %v)", c, best, n, votes)
		}
	}
	for i, tr := range truth {
		if tr == Noise && labels[i] != Noise {
			t.Fatalf("outlier %d labelled %d", i, labels[i])
		}
	}
}

// The grid index must agree with a brute-force neighbour search.
func TestDBSCANMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	n := 400
	pts := make([]float32, 3*n)
	for i := range pts {
		pts[i] = rng.Float32()
	}
	d := DBSCAN{Eps: 0.08, MinPts: 4}
	labels := make([]int, n)
	if _, err := d.Cluster(pts, labels); err != nil {
		t.Fatal(err)
	}
	// Core points by brute force must sit in a cluster, and every pair of core
	// points within eps must share it.
	core := make([]bool, n)
	for i := range n {
		c := 0
		for j := range n {
			if Distance3([3]float32(pts[3*i:3*i+3]), [3]float32(pts[3*j:3*j+3])) <= 0.08 {
				c++
			}
		}
		core[i] = c >= 4
	}
	for i := range n {
		if core[i] && labels[i] == Noise {
			t.Fatalf("core point %d labelled noise", i)
		}
		for j := range n {
			if core[i] && core[j] && Distance3([3]float32(pts[3*i:3*i+3]), [3]float32(pts[3*j:3*j+3])) <= 0.079 && labels[i] != labels[j] {
				t.Fatalf("core neighbours %d,%d in clusters %d,%d", i, j, labels[i], labels[j])
			}
		}
	}
}

func BenchmarkDBSCAN2000(b *testing.B) {
	rng := rand.New(rand.NewPCG(27, 28))
	pts := make([]float32, 3*2000)
	for i := range pts {
		pts[i] = float32(rng.NormFloat64() * 0.05)
	}
	labels := make([]int, 2000)
	d := DBSCAN{Eps: 0.01, MinPts: 5}
	if _, err := d.Cluster(pts, labels); err != nil { // warm the buffers
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Cluster(pts, labels); err != nil {
			b.Fatal(err)
		}
	}
}
