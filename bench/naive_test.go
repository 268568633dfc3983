package bench

import (
	"math"
	"testing"

	"github.com/simdbn/simdbn/bn"
)

// TestNaive checks the handwritten reference against package bn on small
// shapes, so that naive-f64 rows compare like with like.
func TestNaive(t *testing.T) {
	buf := NewBuffers(3 * 5 * 7)
	for _, d := range MustParseShapes("3x5x7,3x5,1x5x2") {
		for _, l := range Layouts {
			s := d.Shape(l.Layout)
			n := d.Len()
			x, dy := buf.X[:n], buf.DY[:n]
			ref, got := bn.New(d.C), bn.New(d.C)
			for c := range d.C {
				g, b := float32(1+0.25*float64(c)), float32(0.5-0.1*float64(c))
				ref.Gamma[c], got.Gamma[c] = g, g
				ref.Beta[c], got.Beta[c] = b, b
			}
			newStats := func() *bn.Stats {
				return &bn.Stats{Mean: make([]float32, d.C), Var: make([]float32, d.C), InvStd: make([]float32, d.C)}
			}
			yr, yg := make([]float32, n), make([]float32, n)
			sr, sg := newStats(), newStats()
			if err := ref.Train(yr, x, s, sr); err != nil {
				t.Fatal(err)
			}
			NaiveTrain(got, yg, x, s, sg, nil)
			near(t, d.Name+"/"+l.Name+"/train y", yg, yr)
			near(t, d.Name+"/"+l.Name+"/train mean", sg.Mean, sr.Mean)
			near(t, d.Name+"/"+l.Name+"/train var", sg.Var, sr.Var)
			near(t, d.Name+"/"+l.Name+"/train invstd", sg.InvStd, sr.InvStd)
			near(t, d.Name+"/"+l.Name+"/running mean", got.RunningMean, ref.RunningMean)
			near(t, d.Name+"/"+l.Name+"/running var", got.RunningVar, ref.RunningVar)

			if err := ref.Infer(yr, x, s); err != nil {
				t.Fatal(err)
			}
			NaiveInfer(got, yg, x, s, nil)
			near(t, d.Name+"/"+l.Name+"/infer y", yg, yr)

			dxr, dxg := make([]float32, n), make([]float32, n)
			dgr, dgg := make([]float32, d.C), make([]float32, d.C)
			dbr, dbg := make([]float32, d.C), make([]float32, d.C)
			if err := ref.Backward(dxr, dgr, dbr, dy, x, s, sr); err != nil {
				t.Fatal(err)
			}
			NaiveBackward(got, dxg, dgg, dbg, dy, x, s, sr, nil)
			near(t, d.Name+"/"+l.Name+"/dx", dxg, dxr)
			near(t, d.Name+"/"+l.Name+"/dgamma", dgg, dgr)
			near(t, d.Name+"/"+l.Name+"/dbeta", dbg, dbr)
		}
	}
}

func near(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*(1+math.Abs(float64(want[i]))) {
			t.Errorf("%s[%d] = %v, want %v", what, i, got[i], want[i])
			return
		}
	}
}
