package bn_test

// Conformance with PyTorch. testdata/gen_golden.py (see testdata/README.md)
// wrote, for small odd shapes in both layouts, inputs, PyTorch's float32 CPU
// outputs and a float64 reference that torch computed on the same float32
// inputs. Our outputs must meet the contract's bounds against that
// reference under every implementation. PyTorch's own float32 outputs are
// checked against the same reference with bounds goldenTorchScale times
// looser, on data without an offset only (the contract says PyTorch's
// kernels do not meet its bounds on offset data): that shows the files are
// sane. Our float64 reference must agree with torch's to goldenRefScale
// times the bounds.

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/simdbn/simdbn/bn"
)

const (
	goldenDir        = "../testdata/golden"
	goldenTorchScale = 10   // PyTorch float32 vs the reference: 1e-4 relative instead of 1e-5
	goldenRefScale   = 1e-3 // our float64 reference vs torch's: 1e-8 relative
)

type goldenOut struct {
	Y           []float64 `json:"y"`
	SaveMean    []float64 `json:"save_mean"`
	SaveInvStd  []float64 `json:"save_invstd"`
	Var         []float64 `json:"var"`
	RunningMean []float64 `json:"running_mean"`
	RunningVar  []float64 `json:"running_var"`
	DX          []float64 `json:"dx"`
	DGamma      []float64 `json:"dgamma"`
	DBeta       []float64 `json:"dbeta"`
	InferY      []float64 `json:"infer_y"`
}

type golden struct {
	name        string
	N, C, S     int
	Layout      string
	Dims        []int
	Eps         float64
	Momentum    float64
	Affine      bool
	Offset      float64
	X, DY       []float64
	Gamma, Beta []float64
	RM0         []float64 `json:"running_mean0"`
	RV0         []float64 `json:"running_var0"`
	Torch, Ref  goldenOut
	tc          *tcase
}

// f32s converts float32 values stored as float64; every value must be
// exactly a float32.
func f32s(t *testing.T, name string, v []float64) []float32 {
	t.Helper()
	if v == nil {
		return nil
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
		if float64(out[i]) != x {
			t.Fatalf("%s[%d] = %v is not a float32", name, i, x)
		}
	}
	return out
}

func loadGolden(t *testing.T) []*golden {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files in %s (%v); see testdata/README.md", goldenDir, err)
	}
	var gs []*golden
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		g := &golden{name: filepath.Base(f)}
		if err := json.Unmarshal(data, g); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		s := bn.Shape{N: g.N, C: g.C, S: g.S}
		switch g.Layout {
		case "channels_first":
		case "channels_last":
			s.Layout = bn.ChannelsLast
		default:
			t.Fatalf("%s: layout %q", f, g.Layout)
		}
		n := g.N * g.C * g.S
		prod := 1
		for _, d := range g.Dims {
			prod *= d
		}
		if prod != n || len(g.X) != n || len(g.DY) != n || len(g.Ref.Y) != n || len(g.Ref.DX) != n ||
			len(g.Ref.InferY) != n || len(g.Ref.SaveMean) != g.C || len(g.Ref.Var) != g.C || len(g.Ref.DGamma) != g.C {
			t.Fatalf("%s: inconsistent sizes", f)
		}
		if g.Affine != (g.Gamma != nil) || g.Affine != (g.Torch.DGamma != nil) {
			t.Fatalf("%s: affine %v but gamma %v, torch dgamma %v", f, g.Affine, g.Gamma != nil, g.Torch.DGamma != nil)
		}
		g.tc = &tcase{
			s: s, x: f32s(t, "x", g.X), dy: f32s(t, "dy", g.DY),
			gamma: f32s(t, "gamma", g.Gamma), beta: f32s(t, "beta", g.Beta),
			rm: f32s(t, "running_mean0", g.RM0), rv: f32s(t, "running_var0", g.RV0),
			eps: f32s(t, "eps", []float64{g.Eps})[0], mom: f32s(t, "momentum", []float64{g.Momentum})[0],
		}
		gs = append(gs, g)
	}
	return gs
}

func (g *golden) refTrain() *refTrain {
	return &refTrain{mean: g.Ref.SaveMean, vr: g.Ref.Var, invstd: g.Ref.SaveInvStd,
		rmean: g.Ref.RunningMean, rvar: g.Ref.RunningVar, y: g.Ref.Y}
}

func (g *golden) refBack() *refBack {
	return &refBack{dx: g.Ref.DX, dgamma: g.Ref.DGamma, dbeta: g.Ref.DBeta}
}

// TestGoldenOurs checks our outputs against torch's float64 reference.
func TestGoldenOurs(t *testing.T) {
	gs := loadGolden(t)
	forImpls(t, func(t *testing.T) {
		for _, g := range gs {
			tc := g.tc
			r := newReport(t, "golden %s (%v)", g.name, tc)
			out, err := runTrain(tc)
			if err != nil {
				t.Fatalf("%s: Train: %v", g.name, err)
			}
			ref := g.refTrain()
			checkTrain(r, tc.s, tc.x, tc.gamma, tc.beta, ref, out)
			bo, err := runBackward(tc, &out.st)
			if err != nil {
				t.Fatalf("%s: Backward: %v", g.name, err)
			}
			checkBackward(r, tc.s, tc.x, tc.dy, tc.gamma, ref.mean, ref.invstd, g.refBack(), bo)
			y, err := runInfer(tc)
			if err != nil {
				t.Fatalf("%s: Infer: %v", g.name, err)
			}
			checkInfer(r, tc.s, tc.x, tc.gamma, tc.beta, tc.rm, tc.rv, tc.eps, g.Ref.InferY, y)
			r.done()
		}
	})
}

// f32sRound rounds float64 values to float32 (for comparing two float64
// computations with the float32 checkers, a 2^-24 relative rounding that
// the bounds absorb).
func f32sRound(v []float64) []float32 {
	if v == nil {
		return nil
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// TestGoldenFilesSane checks the files: PyTorch's float32 outputs are
// within goldenTorchScale times the bounds of the reference on data without
// an offset, and our float64 reference agrees with torch's float64 one.
func TestGoldenFilesSane(t *testing.T) {
	gs := loadGolden(t)
	offsets := 0
	for _, g := range gs {
		tc := g.tc
		if g.Offset == 0 {
			r := newReport(t, "golden %s: PyTorch float32 vs reference at %g x the bounds", g.name, float64(goldenTorchScale))
			r.scale = goldenTorchScale
			ref := g.refTrain()
			tout := &trainOut{y: f32s(t, "torch y", g.Torch.Y),
				st: bn.Stats{Mean: f32s(t, "torch save_mean", g.Torch.SaveMean), InvStd: f32s(t, "torch save_invstd", g.Torch.SaveInvStd)},
				rm: f32s(t, "torch running_mean", g.Torch.RunningMean), rv: f32s(t, "torch running_var", g.Torch.RunningVar)}
			checkTrain(r, tc.s, tc.x, tc.gamma, tc.beta, ref, tout)
			bo := &backOut{dx: f32s(t, "torch dx", g.Torch.DX), dgamma: f32s(t, "torch dgamma", g.Torch.DGamma), dbeta: f32s(t, "torch dbeta", g.Torch.DBeta)}
			checkBackward(r, tc.s, tc.x, tc.dy, tc.gamma, ref.mean, ref.invstd, g.refBack(), bo)
			checkInfer(r, tc.s, tc.x, tc.gamma, tc.beta, tc.rm, tc.rv, tc.eps, g.Ref.InferY, f32s(t, "torch infer_y", g.Torch.InferY))
			r.done()
		} else {
			offsets++
		}
		// Our reference against torch's, on every file.
		mine := refTrainOf(tc)
		r := newReport(t, "golden %s: our float64 reference vs torch's at %g x the bounds", g.name, goldenRefScale)
		r.scale = goldenRefScale
		ref := g.refTrain()
		// The contract's bounds in float64, times goldenRefScale.
		cmp := func(name string, a, b []float64, bound func(i int) float64) {
			for i := range a {
				if d := math.Abs(a[i] - b[i]); !(d <= bound(i)*goldenRefScale) {
					t.Errorf("golden %s: %s[%d]: our reference %v, torch's %v, |diff| %.3g > %.3g", g.name, name, i, a[i], b[i], d, bound(i)*goldenRefScale)
					return
				}
			}
		}
		rel := func(v []float64) func(int) float64 { return func(i int) float64 { return tol * math.Abs(v[i]) } }
		sigma := func(c int) float64 { return math.Sqrt(ref.vr[c]) }
		cmp("mean", mine.mean, ref.mean, func(c int) float64 { return tol*sigma(c) + ulp23*math.Abs(ref.mean[c]) })
		cmp("var", mine.vr, ref.vr, rel(ref.vr))
		cmp("invstd", mine.invstd, ref.invstd, rel(ref.invstd))
		cmp("running_mean", mine.rmean, ref.rmean, func(c int) float64 { return tol * (math.Abs(ref.rmean[c]) + sigma(c)) })
		cmp("running_var", mine.rvar, ref.rvar, rel(ref.rvar))
		ybound := func(mean, invstd func(c int) float64) func(int) float64 {
			return func(i int) float64 {
				c := i % tc.s.C
				if tc.s.Layout == bn.ChannelsFirst {
					c = (i / tc.s.S) % tc.s.C
				}
				xhat := (float64(tc.x[i]) - mean(c)) * invstd(c)
				return tol * (math.Abs(at64(tc.beta, c, 0)) + math.Abs(at64(tc.gamma, c, 1))*(1+math.Abs(xhat)))
			}
		}
		cmp("y", mine.y, ref.y, ybound(func(c int) float64 { return ref.mean[c] }, func(c int) float64 { return ref.invstd[c] }))
		cmp("infer_y", refInferOf(tc), g.Ref.InferY, ybound(func(c int) float64 { return float64(tc.rm[c]) },
			func(c int) float64 { return refInvStd(float64(tc.rv[c]), float64(tc.eps)) }))
		back := refBackwardOf(tc, mine.mean, mine.invstd)
		bout := &backOut{dx: f32sRound(back.dx), dgamma: f32sRound(back.dgamma), dbeta: f32sRound(back.dbeta)}
		// dx, dgamma and dbeta may be near 0 where a relative comparison
		// means nothing: use the backward bounds, scaled (and rounded to
		// float32, which costs at most 2^-24 relative).
		r.scale = 1e-1
		checkBackward(r, tc.s, tc.x, tc.dy, tc.gamma, ref.mean, ref.invstd, g.refBack(), bout)
		r.done()
	}
	if offsets == 0 || offsets == len(gs) {
		t.Errorf("golden files: %d of %d with an offset, want some of each", offsets, len(gs))
	}
}
