package reduce

import (
	"slices"
	"testing"
	"time"
)

// BenchmarkInferStream asks how far Infer of 32x64x56x56 channels first is
// from the speed of its kernel: it times Infer and the non-temporal
// normalization kernel run over the whole tensor as one run (one set of
// parameters, nothing but a stream), each call alternating with a copy()
// of the same tensor as bnbench alternates them, and reports the medians
// of infer/copy and stream/copy over b.N rounds of the two.
//
//	go test -run '^$' -bench InferStream -benchtime 150x ./reduce/
func BenchmarkInferStream(b *testing.B) {
	s := Shape{N: 32, C: 64, S: 3136}
	n := s.Len()
	x, y := make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(i%97) * 0.1
	}
	mean, variance := make([]float32, s.C), make([]float32, s.C)
	for c := range variance {
		variance[c] = 1
	}
	p := make([]float32, 8) // y = ((x - 0) - 0)*1 + 0
	p[2] = 1
	k := current()
	timed := func(f func()) float64 {
		t0 := time.Now()
		f()
		return float64(time.Since(t0))
	}
	cp := func() { copy(y, x) }
	infer := func() { Infer(&InferArgs{Y: y, X: x, Shape: s, Mean: mean, Variance: variance, Eps: 1e-5}) }
	stream := func() { k.applyCFNT(y, x, 1, 1, n, n, p) }
	infer()
	stream()
	cp() // the first calls fault the pages in
	var ri, rs []float64
	for b.Loop() {
		ri = append(ri, timed(infer)/timed(cp))
		rs = append(rs, timed(stream)/timed(cp))
	}
	med := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
	b.ReportMetric(med(ri), "infer/copy")
	b.ReportMetric(med(rs), "stream/copy")
}
