package perception

import "math/bits"

// lowerMedian returns the lower median a[(n-1)/2] of the sorted order of a
// (len >= 1): always a measured value, never an interpolation. It reorders a.
func lowerMedian(a []float32) float32 {
	return selectKth(a, (len(a)-1)/2)
}

// selectKth partially orders a so that a[k] is the k-th smallest value, with
// a[:k] <= a[k] <= a[k+1:], and returns it (Hoare partition, median-of-three
// pivot so sorted or constant inputs stay linear). General purpose; the patch
// loop uses histKeySelect, which avoids quickselect's unpredictable branches.
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

// Depth values are positive finite float32s, whose IEEE-754 bit patterns
// order exactly like the values. The patch median therefore works on those
// bits as uint32 keys: validity, extremes and histogram buckets become
// integer operations the compiler turns into conditional moves and shifts,
// with no float-to-int conversions and no unpredictable branches.

// depthKeyMaxValid is the bit pattern of the largest finite float32; valid
// depth keys lie in [1, depthKeyMaxValid] (positive, finite, nonzero).
const depthKeyMaxValid = 0x7F7FFFFF

// depthKeyValid returns 1 when bits encodes a positive finite nonzero
// float32 and 0 otherwise (zero, negative, ±Inf, NaN), without branching:
// the 64-bit difference is negative exactly when bits-1 < depthKeyMaxValid.
func depthKeyValid(bits uint32) uint32 {
	return uint32((uint64(bits-1) - depthKeyMaxValid) >> 63)
}

// histBucketBits sets the fan-out of one histKeySelect pass: 64 counters
// (cheap to clear per patch) cut a 256-pixel patch to a few candidates.
const histBucketBits = 6

// histKeySelect returns the k-th smallest of keys (len >= 1) whose exact
// minimum and maximum are lo and hi. Each pass buckets keys by their offset
// from lo, keeps the bucket holding rank k, and repeats; small remainders are
// insertion sorted. lo lands in bucket 0 and hi in a bucket >= 32 whenever
// keys differ, so every pass shrinks the set. tmp must be at least len(keys)
// long; keys and tmp are both overwritten.
func histKeySelect(keys, tmp []uint32, k int, lo, hi uint32) uint32 {
	for {
		n := len(keys)
		if lo == hi {
			return lo
		}
		if n <= 16 {
			insertionSortKeys(keys)
			return keys[k]
		}
		shift := uint(max(0, bits.Len32(hi-lo)-histBucketBits))
		var counts [1 << histBucketBits]int32
		for _, v := range keys {
			counts[(v-lo)>>shift]++
		}
		b, before := uint32(0), 0
		for ; before+int(counts[b]) <= k; b++ {
			before += int(counts[b])
		}
		m := 0
		out := tmp[:n]
		for _, v := range keys {
			out[m] = v
			// +1 exactly when v is in bucket b: (x ^ b) is 0 only then.
			m += int((uint64(((v-lo)>>shift)^b) - 1) >> 63)
		}
		keys, tmp, k = out[:m], keys, k-before
		lo, hi = keys[0], keys[0]
		for _, v := range keys[1:] {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
}

func insertionSortKeys(a []uint32) {
	for i := 1; i < len(a); i++ {
		v := a[i]
		j := i - 1
		for ; j >= 0 && a[j] > v; j-- {
			a[j+1] = a[j]
		}
		a[j+1] = v
	}
}
