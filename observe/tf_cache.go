package observe

import (
	"math"

	"github.com/vla3d/vla3d/perception"
)

// tfSample is one stamped transform of an edge: parent_from_child as a
// translation and unit quaternion (x, y, z, w), the form interpolated.
type tfSample struct {
	stamp int64 // ns since the Unix epoch (0 for an unstamped message)
	t     [3]float64
	q     [4]float64
}

// tfCache is one moving edge's samples sorted by stamp in a ring buffer
// (tf2's TimeCache). It grows by doubling up to a cap, so after warm-up
// inserts and lookups do not allocate. Its length is a power of two so
// indexing masks instead of dividing (the lookup's hot spot).
type tfCache struct {
	buf  []tfSample
	mask int // len(buf) - 1
	head int // ring index of the oldest sample
	n    int
}

// at returns the i-th oldest sample.
func (c *tfCache) at(i int) *tfSample { return &c.buf[(c.head+i)&c.mask] }

// ringCap is the ring length used for a cap of maxN samples: maxN rounded
// up to a power of two.
func ringCap(maxN int) int {
	n := 1
	for n < maxN {
		n <<= 1
	}
	return n
}

func (c *tfCache) oldest() int64 { return c.at(0).stamp }
func (c *tfCache) newest() int64 { return c.at(c.n - 1).stamp }

// search returns the first index whose stamp is >= ns (n if none).
func (c *tfCache) search(ns int64) int {
	lo, hi := 0, c.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c.at(m).stamp < ns {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// insert adds s in stamp order (a sample with an equal stamp is replaced)
// and drops samples older than the newest stamp minus window. It reports
// false, leaving the cache unchanged, for a sample already outside the
// window (tf2's "TF_OLD_DATA").
func (c *tfCache) insert(s tfSample, window int64, maxN int) bool {
	if c.n > 0 && s.stamp < satSub(c.newest(), window) {
		return false
	}
	i := c.search(s.stamp)
	if i < c.n && c.at(i).stamp == s.stamp {
		*c.at(i) = s
		return true
	}
	if c.n == len(c.buf) {
		if capN := ringCap(maxN); len(c.buf) < capN {
			c.grow(min(max(16, 2*len(c.buf)), capN))
		} else {
			// Full at the cap: the oldest sample goes.
			if i == 0 {
				return true // older than everything kept; nothing to gain
			}
			c.head = (c.head + 1) & c.mask
			c.n--
			i--
		}
	}
	// Shift the newer samples up by one; out-of-order arrivals are rare and
	// land near the end, so this is short in practice.
	for j := c.n; j > i; j-- {
		*c.at(j) = *c.at(j - 1)
	}
	*c.at(i) = s
	c.n++
	for lim := satSub(c.newest(), window); c.n > 1 && c.oldest() < lim; {
		c.head = (c.head + 1) & c.mask
		c.n--
	}
	return true
}

// grow re-lays the ring out linearly in a buffer of n (a power of two).
func (c *tfCache) grow(n int) {
	nb := make([]tfSample, n)
	for i := range c.n {
		nb[i] = *c.at(i)
	}
	c.buf, c.mask, c.head = nb, n-1, 0
}

// reset empties the cache, keeping its buffer.
func (c *tfCache) reset() { c.head, c.n = 0, 0 }

// extrapolation says where a request fell outside the samples.
type extrapolation int8

const (
	inRange extrapolation = iota
	intoPast
	intoFuture
	noData
)

// sample returns the transform at ns: exact or interpolated between the
// bracketing samples (linear translation, slerp rotation), or the nearest
// end sample when ns lies at most tol outside the kept range.
func (c *tfCache) sample(ns, tol int64) (tfSample, extrapolation) {
	if c.n == 0 {
		return tfSample{}, noData
	}
	lo, hi := c.oldest(), c.newest()
	switch {
	case ns > hi:
		if satSub(ns, hi) > tol {
			return tfSample{}, intoFuture
		}
		return *c.at(c.n - 1), inRange
	case ns < lo:
		if satSub(lo, ns) > tol {
			return tfSample{}, intoPast
		}
		return *c.at(0), inRange
	}
	i := c.search(ns)
	b := c.at(i)
	if b.stamp == ns {
		return *b, inRange
	}
	return interpolate(c.at(i-1), b, ns), inRange
}

// interpolate is tf2's TimeCache::interpolate: translation linearly, rotation
// by slerp, at ratio (ns - a.stamp) / (b.stamp - a.stamp).
func interpolate(a, b *tfSample, ns int64) tfSample {
	// Saturated differences keep absurd stamps from wrapping; the clamp
	// keeps the result between the samples whatever they are.
	r := min(1, max(0, float64(satSub(ns, a.stamp))/float64(satSub(b.stamp, a.stamp))))
	out := tfSample{stamp: ns, q: perception.QuatFromArray(a.q).Slerp(perception.QuatFromArray(b.q), r).Array()}
	for k := range 3 {
		out.t[k] = a.t[k] + r*(b.t[k]-a.t[k])
	}
	return out
}

// satSub is a - b clamped to the int64 range (stamps can be anything a
// publisher sends).
func satSub(a, b int64) int64 {
	d := a - b
	switch {
	case b > 0 && d > a:
		return math.MinInt64
	case b < 0 && d < a:
		return math.MaxInt64
	}
	return d
}
