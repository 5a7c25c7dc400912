package perception

import "math"

// lowerMedian returns the lower median a[(n-1)/2] of the sorted order of a
// (len >= 1): always a measured value, never an interpolation. It reorders a.
func lowerMedian(a []float32) float32 {
	return selectKth(a, (len(a)-1)/2)
}

// selectKth partially orders a so that a[k] is the k-th smallest value, with
// a[:k] <= a[k] <= a[k+1:], and returns it (Hoare partition, median-of-three
// pivot so sorted or constant inputs stay linear). General purpose; hot loops
// over many small sets use histSelect, which avoids its unpredictable branches.
func selectKth(a []float32, k int) float32 {
	lo, hi := 0, len(a)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		// Order a[lo], a[mid], a[hi] so the pivot is their median.
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		pivot := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < pivot {
				i++
			}
			for a[j] > pivot {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return a[k]
		}
	}
	return a[k]
}

// histBuckets is the fan-out of one histSelect pass: 64 counters fit in L1
// and cut a 256-value patch to a handful of candidates per pass.
const histBuckets = 64

// histSelect returns the k-th smallest of a (finite values, len >= 1) by
// bucketing values between min and max into a histogram, keeping only the
// bucket holding rank k, and repeating; small remainders are insertion
// sorted. Every pass is a straight-line loop, so unlike quickselect it does
// not pay a branch misprediction per comparison on noisy depth. tmp must be
// at least len(a) long; a and tmp are both overwritten.
func histSelect(a, tmp []float32, k int) float32 {
	lo, hi := minMax(a)
	return histSelectRange(a, tmp, k, lo, hi)
}

// histSelectRange is histSelect for a caller that already knows a's exact
// minimum lo and maximum hi (the patch gather computes them for free).
func histSelectRange(a, tmp []float32, k int, lo, hi float32) float32 {
	for {
		n := len(a)
		if n <= 16 {
			insertionSort(a)
			return a[k]
		}
		if lo == hi {
			return lo
		}
		scale := histBuckets / (hi - lo)
		if math.IsInf(float64(scale), 0) {
			return selectKth(a, k) // subnormal spread: bucketing would divide by ~0
		}
		var counts [histBuckets]int32
		for _, v := range a {
			counts[min(int((v-lo)*scale), histBuckets-1)]++
		}
		b, before := 0, 0
		for ; before+int(counts[b]) <= k; b++ {
			before += int(counts[b])
		}
		// lo lands in bucket 0 and hi in the last, so the kept bucket is
		// strictly smaller than a and the loop terminates.
		m := 0
		out := tmp[:n]
		for _, v := range a {
			out[m] = v
			if min(int((v-lo)*scale), histBuckets-1) == b {
				m++
			}
		}
		a, tmp, k = out[:m], a, k-before
		lo, hi = minMax(a)
	}
}

// minMax returns the extremes of a (len >= 1, no NaN). Plain comparisons:
// the min/max builtins carry NaN and ±0 handling that costs 4x here.
func minMax(a []float32) (lo, hi float32) {
	lo, hi = a[0], a[0]
	for _, v := range a[1:] {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return lo, hi
}

func insertionSort(a []float32) {
	for i := 1; i < len(a); i++ {
		v := a[i]
		j := i - 1
		for ; j >= 0 && a[j] > v; j-- {
			a[j+1] = a[j]
		}
		a[j+1] = v
	}
}
