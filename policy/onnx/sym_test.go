package onnx

import "testing"

func TestFitSym(t *testing.T) {
	cases := []struct {
		name    string
		batches [3]int
		v       [3]int
		want    sym
		ok      bool
	}{
		{"static", dynamicBatches, [3]int{7, 7, 7}, sym{c: 7}, true},
		{"batch", dynamicBatches, [3]int{2, 3, 5}, sym{a: 1}, true},
		{"affine", dynamicBatches, [3]int{3*2 - 1, 3*3 - 1, 3*5 - 1}, sym{a: 3, c: -1}, true},
		{"quadratic refused", dynamicBatches, [3]int{4, 9, 25}, sym{}, false},
		{"fixed batch", [3]int{1, 1, 1}, [3]int{6, 6, 6}, sym{c: 6}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := fitSym(c.batches, c.v)
			if ok != c.ok || (ok && got != c.want) {
				t.Fatalf("fitSym = %v, %v; want %v, %v", got, ok, c.want, c.ok)
			}
		})
	}
}

// TestSymAtProperty: a fitted sym reproduces every traced value.
func TestSymAtProperty(t *testing.T) {
	for a := -3; a <= 3; a++ {
		for c := -10; c <= 10; c++ {
			var v [3]int
			for i, b := range dynamicBatches {
				v[i] = a*b + c
			}
			s, ok := fitSym(dynamicBatches, v)
			if !ok || s.at(11) != a*11+c {
				t.Fatalf("a=%d c=%d: fitted %v ok=%v", a, c, s, ok)
			}
		}
	}
}

func TestProdSym(t *testing.T) {
	dims := []sym{{a: 1}, {c: 3}, {c: 4}, {a: 2, c: 1}}
	cases := []struct {
		axes []int
		want sym
		ok   bool
	}{
		{nil, sym{c: 1}, true},
		{[]int{1, 2}, sym{c: 12}, true},
		{[]int{0, 1}, sym{a: 3}, true},
		{[]int{2, 3}, sym{a: 8, c: 4}, true},
		{[]int{0, 3}, sym{}, false},
	}
	for _, c := range cases {
		got, ok := prodSym(dims, c.axes)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("prodSym(%v) = %v, %v; want %v, %v", c.axes, got, ok, c.want, c.ok)
		}
	}
}

func TestEinsumEquation(t *testing.T) {
	cases := []struct {
		name           string
		lr, rr         int
		lc, lb, rc, rb []int
		want           string
	}{
		{"matmul", 2, 2, []int{1}, nil, []int{0}, nil, "ba,ac->bc"},
		{"batched", 3, 3, []int{2}, []int{0}, []int{1}, []int{0}, "acb,abd->acd"},
		{"attention", 4, 4, []int{3}, []int{0, 1}, []int{3}, []int{0, 1}, "abdc,abec->abde"},
		{"outer", 1, 1, nil, nil, nil, nil, "a,b->ab"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := einsumEquation(c.lr, c.rr, c.lc, c.lb, c.rc, c.rb)
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestWindowOffsets(t *testing.T) {
	e := &emitter{consts: map[string]string{}}
	name := e.windowOffsets(1, []int{1, 2, 3})
	init := e.g.Initializers[0]
	if init.Name != name || len(init.Dims) != 5 || init.Dims[0] != 1 || init.Dims[4] != 3 {
		t.Fatalf("initializer %+v", init)
	}
	// Entry (w0,w1,w2) holds (w0,w1,w2): the last entry is (0,1,2).
	raw := init.Raw
	last := raw[len(raw)-3*8:]
	for d, want := range []byte{0, 1, 2} {
		if last[8*d] != want {
			t.Fatalf("last offsets %v", last)
		}
	}
}
