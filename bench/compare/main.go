// Command compare times simdbn against oneDNN (C API through cgo) and
// PyTorch's C++ API (libtorch through an extern "C" shim loaded with
// dlopen), one thread each, in one process, interleaved on the same shapes,
// and prints each as a ratio to the time of Go's copy() of the same tensor.
// See README.md; run.sh installs the peers, builds and runs it.
package main

import (
	"cmp"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/simdbn/simdbn/bench"
	"github.com/simdbn/simdbn/bn"
)

type shapeDef struct {
	N, C, H, W int
	name       string
}

func (s shapeDef) elems() int { return s.N * s.C * s.H * s.W }

// allShapes are the six shapes of bench.Shapes (the bnbench default), so
// that the two tables line up.
var allShapes = []shapeDef{
	{32, 64, 56, 56, "32x64x56x56"},
	{64, 128, 56, 56, "64x128x56x56"},
	{8, 512, 7, 7, "8x512x7x7"},
	{256, 1024, 1, 1, "256x1024"},
	{16, 32, 112, 112, "16x32x112x112"},
	{8, 256, 28, 28, "8x256x28x28"},
}

var opNames = []string{"train", "infer", "backward"}
var layoutNames = []string{"nchw", "nhwc"}

const (
	eps      = float32(1e-5)
	momentum = float32(0.1)
)

var (
	flagQuick    = flag.Bool("quick", false, "quick run: fewer samples and calls")
	flagK        = flag.Int("k", 11, "samples per (op, layout, shape)")
	flagReps     = flag.Int("reps", 7, "calls per sample of each contender (more for small tensors)")
	flagShapes   = flag.String("shapes", "", "comma-separated subset of shapes (default all)")
	flagOps      = flag.String("ops", "", "comma-separated subset of train,infer,backward")
	flagShim     = flag.String("shim", "build/libtorchshim.so", "path of the libtorch shim (empty: no PyTorch)")
	flagCheck    = flag.Bool("check-only", false, "only run the correctness check and thread check")
	flagNoCheck  = flag.Bool("no-check", false, "skip the correctness check")
	flagMarkdown = flag.String("o", "", "also write the report to this file")
	flagReadIn   = flag.Bool("readin", false, "also time a read of the op's inputs (x; x and dy for backward) with read_ns, the bytes every implementation must read (column 'read inputs')")
	flagFloor    = flag.Bool("floor", false, "also time plain-C references in the same samples: the output written alone ('write output'; all three store non-temporally from 8 MB, as simdbn does), the op's reads and write in one loop ('one pass'), and Train's and Backward's two-pass schedule in plain C, float32 sums, results discarded ('plain C two passes')")
	flagReread   = flag.Bool("reread", false, "also time simdbn (default implementation), oneDNN and PyTorch each followed by a read of its output, as the next layer reads it (columns '+read')")
)

func init() {
	// One OS thread for everything we time: the cgo calls (and OpenMP's
	// per-thread settings) stay on this thread.
	runtime.LockOSThread()
}

func main() {
	flag.Parse()
	// OpenMP reads OMP_NUM_THREADS when libgomp initializes; make sure it is
	// 1 from the start (omp_set_num_threads(1) is also called).
	if os.Getenv("OMP_NUM_THREADS") != "1" {
		os.Setenv("OMP_NUM_THREADS", "1")
		exe, err := os.Executable()
		if err == nil {
			err = syscall.Exec(exe, os.Args, os.Environ())
		}
		fmt.Fprintln(os.Stderr, "re-exec with OMP_NUM_THREADS=1 failed:", err)
	}
	runtime.GOMAXPROCS(1)
	if *flagQuick {
		*flagK, *flagReps = 3, 3
	}

	var out strings.Builder
	report := func(format string, a ...any) {
		fmt.Fprintf(&out, format, a...)
		fmt.Printf(format, a...)
	}
	start := time.Now()
	report("# simdbn vs oneDNN vs PyTorch: time as a ratio to Go copy() of the same tensor\n\n")
	report("Date: %s. Go %s, GOMAXPROCS=%d, OMP_NUM_THREADS=%s, %d CPUs visible. K=%d samples, >=%d calls each.\n\n",
		start.UTC().Format("2006-01-02 15:04 UTC"), runtime.Version(), runtime.GOMAXPROCS(0),
		os.Getenv("OMP_NUM_THREADS"), runtime.NumCPU(), *flagK, *flagReps)
	report("Machine: %s.\n\n", bench.Machine())

	loadStart := loadavg()
	report("simdbn source: %s. Load average at start: %s\n\n", cmp.Or(os.Getenv("SIMDBN_BUILT_FROM"), "?"), loadStart)
	if err := dnnlInit(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	report("simdbn implementations: %v (default %s)\n\n", bn.Impls(), bn.Impl())
	if *flagShim != "" {
		n, cfg, err := torchLoad(*flagShim)
		if err != nil {
			report("PyTorch: not loaded (%v); PyTorch columns empty\n\n", err)
		} else {
			report("PyTorch (libtorch) threads after at::set_num_threads(1): %d\n\n```\n%s```\n\n", n, cfg)
		}
	}

	threadCheck(report)
	if !*flagNoCheck {
		correctness(report)
	}
	if *flagCheck {
		finish(&out, start)
		return
	}

	shapes := allShapes
	if *flagShapes != "" {
		shapes = nil
		for _, s := range allShapes {
			if slices.Contains(strings.Split(*flagShapes, ","), s.name) {
				shapes = append(shapes, s)
			}
		}
	}
	ops := []int{opTrain, opInfer, opBackward}
	if *flagOps != "" {
		ops = nil
		for i, n := range opNames {
			if slices.Contains(strings.Split(*flagOps, ","), n) {
				ops = append(ops, i)
			}
		}
	}

	var rows []row
	implNotes := map[string]bool{}
	for _, sh := range shapes {
		for layout := range 2 {
			rs, notes := benchShapeLayout(sh, layout, ops)
			rows = append(rows, rs...)
			for _, n := range notes {
				implNotes[n] = true
			}
			fmt.Fprintf(os.Stderr, "done %s %s (%.0fs)\n", sh.name, layoutNames[layout], time.Since(start).Seconds())
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].op != rows[j].op {
			return rows[i].op < rows[j].op
		}
		return rows[i].layout < rows[j].layout
	})
	report("## Ratios to Go copy() (lower is faster; median over samples of contender/copy)\n\n")
	printTable(report, rows)
	report("\noneDNN implementations chosen (dnnl_query_impl_info_str):\n")
	// group "op layout shape: impl" notes by op and layout
	byKey := map[string]map[string][]string{}
	var keys []string
	for n := range implNotes {
		f := strings.SplitN(n, " ", 3)
		rest := strings.SplitN(f[2], ": ", 2)
		k := f[0] + " " + f[1]
		if byKey[k] == nil {
			byKey[k] = map[string][]string{}
			keys = append(keys, k)
		}
		byKey[k][rest[1]] = append(byKey[k][rest[1]], rest[0])
	}
	sort.Strings(keys)
	for _, k := range keys {
		var parts []string
		for impl, shs := range byKey[k] {
			sort.Strings(shs)
			if len(shs) == len(shapes) {
				shs = []string{"all shapes"}
			}
			parts = append(parts, fmt.Sprintf("%s (%s)", impl, strings.Join(shs, ", ")))
		}
		sort.Strings(parts)
		report("- %s: %s\n", k, strings.Join(parts, "; "))
	}
	report("\nLoad average (1, 5, 15 min) at start: %s; at end: %s\n", loadStart, loadavg())
	finish(&out, start)
}

func finish(out *strings.Builder, start time.Time) {
	msg := fmt.Sprintf("\nTotal wall time: %.0f s\n", time.Since(start).Seconds())
	out.WriteString(msg)
	fmt.Print(msg)
	if *flagMarkdown != "" {
		if err := os.WriteFile(*flagMarkdown, []byte(out.String()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
}

// ---- data ----

type data struct {
	sh                   shapeDef
	layout               int
	x, dy                []float32 // in the layout's memory order
	gamma, beta, rm, rv  []float32
	y, dx, dgamma, dbeta []float32
	cpy                  []float32
}

// genData fills x with per-channel N(mu_c, sigma_c) + offset and dy with N(0,1).
func genData(sh shapeDef, layout int, offset float64, seed uint64) *data {
	r := rand.New(rand.NewPCG(seed, 7))
	n := sh.elems()
	d := &data{sh: sh, layout: layout, x: make([]float32, n), dy: make([]float32, n)}
	C, S := sh.C, sh.H*sh.W
	mu := make([]float64, C)
	sig := make([]float64, C)
	d.gamma, d.beta, d.rm, d.rv = make([]float32, C), make([]float32, C), make([]float32, C), make([]float32, C)
	for c := range C {
		mu[c] = r.NormFloat64()
		sig[c] = 0.5 + 1.5*r.Float64()
		d.gamma[c] = float32(0.5 + r.Float64())
		d.beta[c] = float32(r.NormFloat64() * 0.5)
		d.rm[c] = float32(offset + mu[c] + 0.1*r.NormFloat64())
		d.rv[c] = float32(sig[c] * sig[c] * (0.8 + 0.4*r.Float64()))
	}
	for nn := range sh.N {
		for c := range C {
			for s := range S {
				var i int
				if layout == 0 {
					i = (nn*C+c)*S + s
				} else {
					i = (nn*S+s)*C + c
				}
				d.x[i] = float32(offset + mu[c] + sig[c]*r.NormFloat64())
				d.dy[i] = float32(r.NormFloat64())
			}
		}
	}
	d.y, d.dx, d.cpy = make([]float32, n), make([]float32, n), make([]float32, n)
	d.dgamma, d.dbeta = make([]float32, C), make([]float32, C)
	return d
}

func (d *data) bnShape() bn.Shape {
	l := bn.ChannelsFirst
	if d.layout == 1 {
		l = bn.ChannelsLast
	}
	return bn.Shape{N: d.sh.N, C: d.sh.C, S: d.sh.H * d.sh.W, Layout: l}
}

func (d *data) layer() *bn.BatchNorm {
	b := bn.New(d.sh.C)
	copy(b.Gamma, d.gamma)
	copy(b.Beta, d.beta)
	copy(b.RunningMean, d.rm)
	copy(b.RunningVar, d.rv)
	b.Eps, b.Momentum = eps, momentum
	return b
}

func newStats(C int) *bn.Stats {
	return &bn.Stats{Mean: make([]float32, C), Var: make([]float32, C), InvStd: make([]float32, C)}
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// ---- timing ----

type contender struct {
	col   string
	setup func() // called before each batch of calls (e.g. bn.Use)
	run   func() float64
}

type row struct {
	op, layout int
	shape      string
	copyNS     float64
	ratio      map[string]float64
	best       string
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func timeGo(f func()) float64 {
	t0 := time.Now()
	f()
	return float64(time.Since(t0).Nanoseconds())
}

func sampleOf(c contender, reps int) float64 {
	if c.setup != nil {
		c.setup()
	}
	t := make([]float64, reps)
	for i := range t {
		t[i] = c.run()
	}
	return median(t)
}

func benchShapeLayout(sh shapeDef, layout int, ops []int) ([]row, []string) {
	d := genData(sh, layout, 0, uint64(sh.elems()+layout))
	s := d.bnShape()
	b := d.layer()
	st := newStats(sh.C)
	must(b.Train(d.y, d.x, s, st))

	dn, err := newDnnl(sh.N, sh.C, sh.H, sh.W, layout, eps)
	must(err)
	defer dn.free()
	dn.set(d.x, d.dy, d.gamma, d.beta, d.rm, d.rv)
	var blk *dnnlCtx
	if layout == 0 {
		blk, err = newDnnl(sh.N, sh.C, sh.H, sh.W, dnnlNChw16c, eps)
		must(err)
		defer blk.free()
		blk.set(d.x, d.dy, d.gamma, d.beta, d.rm, d.rv)
	}
	var tc *torchCtx
	if torchLoaded {
		tc, err = newTorch(sh.N, sh.C, sh.H, sh.W, layout, eps, momentum)
		must(err)
		defer tc.free()
		tc.set(d.x, d.dy, d.gamma, d.beta, d.rm, d.rv)
		tc.run(opTrain) // saved statistics for backward
	}
	dn.run(opTrain)
	if blk != nil {
		blk.run(opTrain)
	}

	reps := *flagReps
	// Small tensors: more calls per sample so that each sample is >= ~5 ms of copies.
	copyEst := timeGo(func() { copy(d.cpy, d.x) })
	copyEst = min(copyEst, timeGo(func() { copy(d.cpy, d.x) }))
	if want := int(5e6 / max(copyEst, 1)); want > reps {
		reps = min(want, 50)
	}

	var notes []string
	var rows []row
	for _, op := range ops {
		var cs []contender
		// f is simdbn's call of op, with whatever implementation is in use.
		var f func()
		switch op {
		case opTrain:
			f = func() { must(b.Train(d.y, d.x, s, st)) }
		case opInfer:
			f = func() { must(b.Infer(d.y, d.x, s)) }
		default:
			f = func() { must(b.Backward(d.dx, d.dgamma, d.dbeta, d.dy, d.x, s, st)) }
		}
		for _, impl := range bn.Impls() {
			cs = append(cs, contender{
				col:   "simdbn " + impl,
				setup: func() { _, err := bn.Use(impl); must(err) },
				run:   func() float64 { return timeGo(f) },
			})
		}
		cs = append(cs, contender{col: "oneDNN", run: func() float64 { return dn.run(op) }})
		notes = append(notes, fmt.Sprintf("%s %s %s: %s", opNames[op], layoutNames[layout], sh.name, dn.impl(op)))
		if blk != nil {
			cs = append(cs, contender{col: "oneDNN nChw16c", run: func() float64 { return blk.run(op) }})
			notes = append(notes, fmt.Sprintf("%s nChw16c %s: %s", opNames[op], sh.name, blk.impl(op)))
		}
		if tc != nil {
			cs = append(cs, contender{col: "PyTorch", run: func() float64 { return tc.run(op) }})
		}
		if *flagReread {
			// The op and then one read of its output (read_ns, the same
			// reader for all): an output written around the cache is
			// read back from memory.
			out := d.y
			if op == opBackward {
				out = d.dx
			}
			cs = append(cs, contender{
				col:   "simdbn +read",
				setup: func() { _, err := bn.Use(bn.Impls()[0]); must(err) },
				run:   func() float64 { return timeGo(f) + readNS(out) },
			})
			cs = append(cs, contender{col: "oneDNN +read", run: func() float64 { return dn.run(op) + dn.readOut(op) }})
			if blk != nil {
				cs = append(cs, contender{col: "oneDNN nChw16c +read", run: func() float64 { return blk.run(op) + blk.readOut(op) }})
			}
			if tc != nil {
				cs = append(cs, contender{col: "PyTorch +read", run: func() float64 { return tc.run(op) + tc.readOut(op) }})
			}
		}
		if *flagReadIn {
			// What every implementation must read once: a floor for the
			// op, in this sample's conditions.
			in := [][]float32{d.x}
			if op == opBackward {
				in = append(in, d.dy)
			}
			cs = append(cs, contender{col: "read inputs", run: func() float64 {
				var t float64
				for _, v := range in {
					t += readNS(v)
				}
				return t
			}})
		}
		if *flagFloor {
			// What the bytes and the schedule cost in plain C (floor.c):
			// the output written alone, everything in one loop, and for
			// Train and Backward the simplest code of their two passes.
			out, dy := d.y, []float32(nil)
			if op == opBackward {
				out, dy = d.dx, d.dy
			}
			cs = append(cs, contender{col: "write output", run: func() float64 { return writeNS(out) }})
			cs = append(cs, contender{col: "one pass", run: func() float64 { return onePassNS(out, d.x, dy) }})
			if op != opInfer {
				acc := make([]float32, 4*sh.C)
				cs = append(cs, contender{col: "plain C two passes", run: func() float64 {
					return twoPassNS(out, d.x, dy, sh.N, sh.C, sh.H*sh.W, layout == 1, acc)
				}})
			}
		}
		cs = append(cs, contender{col: "memcpy", run: func() float64 { return memcpyNS(d.cpy, d.x) }})
		cp := contender{col: "copy", run: func() float64 { return timeGo(func() { copy(d.cpy, d.x) }) }}

		// warm up
		for _, c := range append([]contender{cp}, cs...) {
			sampleOf(c, 2)
		}
		ratios := map[string][]float64{}
		var copies []float64
		for k := range *flagK {
			ct := sampleOf(cp, reps)
			copies = append(copies, ct)
			// rotate the order of the contenders from sample to sample
			for j := range cs {
				c := cs[(j+k)%len(cs)]
				ratios[c.col] = append(ratios[c.col], sampleOf(c, reps)/ct)
			}
		}
		bn.Use(bn.Impls()[0])
		r := row{op: op, layout: layout, shape: sh.name, copyNS: median(copies), ratio: map[string]float64{}}
		bestV := math.Inf(1)
		for col, v := range ratios {
			m := median(v)
			r.ratio[col] = m
			if strings.HasPrefix(col, "simdbn ") && !strings.HasSuffix(col, " +read") && m < bestV {
				bestV, r.best = m, strings.TrimPrefix(col, "simdbn ")
			}
		}
		rows = append(rows, r)
	}
	return rows, notes
}

func printTable(report func(string, ...any), rows []row) {
	impls := bn.Impls()
	hdr := []string{"op", "layout", "shape", "copy ms", "simdbn best"}
	for _, im := range impls {
		hdr = append(hdr, "simdbn "+im)
	}
	hdr = append(hdr, "oneDNN (same layout)", "oneDNN nChw16c (primitive only)", "PyTorch (contig / channels_last)", "memcpy")
	if *flagReread {
		hdr = append(hdr, "simdbn +read", "oneDNN +read", "oneDNN nChw16c +read", "PyTorch +read")
	}
	if *flagReadIn {
		hdr = append(hdr, "read inputs")
	}
	if *flagFloor {
		hdr = append(hdr, "write output", "one pass", "plain C two passes")
	}
	report("| %s |\n", strings.Join(hdr, " | "))
	seps := make([]string, len(hdr))
	for i := range seps {
		seps[i] = "---"
		if i >= 3 {
			seps[i] = "---:"
		}
	}
	report("| %s |\n", strings.Join(seps, " | "))
	cell := func(r row, col string) string {
		v, ok := r.ratio[col]
		if !ok {
			return "—"
		}
		return fmt.Sprintf("%.2f", v)
	}
	for _, r := range rows {
		f := []string{opNames[r.op], layoutNames[r.layout], r.shape, fmt.Sprintf("%.3f", r.copyNS/1e6),
			fmt.Sprintf("**%s** (%s)", cell(r, "simdbn "+r.best), r.best)}
		for _, im := range impls {
			f = append(f, cell(r, "simdbn "+im))
		}
		f = append(f, cell(r, "oneDNN"), cell(r, "oneDNN nChw16c"), cell(r, "PyTorch"), cell(r, "memcpy"))
		if *flagReread {
			f = append(f, cell(r, "simdbn +read"), cell(r, "oneDNN +read"), cell(r, "oneDNN nChw16c +read"), cell(r, "PyTorch +read"))
		}
		if *flagReadIn {
			f = append(f, cell(r, "read inputs"))
		}
		if *flagFloor {
			f = append(f, cell(r, "write output"), cell(r, "one pass"), cell(r, "plain C two passes"))
		}
		report("| %s |\n", strings.Join(f, " | "))
	}
}

// ---- single-thread check ----

// threadCheck runs each peer for a while on a large tensor and compares the
// process CPU time with the wall time: about 1.0 means one thread worked.
func threadCheck(report func(string, ...any)) {
	sh := shapeDef{16, 64, 56, 56, "16x64x56x56"}
	d := genData(sh, 0, 0, 1)
	s := d.bnShape()
	b := d.layer()
	st := newStats(sh.C)
	measure := func(f func()) string {
		f()
		c0, t0, w0 := cpuNS(), threadNS(), wallNS()
		for range 5 {
			f()
		}
		c, t, w := cpuNS()-c0, threadNS()-t0, wallNS()-w0
		return fmt.Sprintf("%.2f | %.2f", c/t, c/w)
	}
	report("## Thread check (5 training calls on %s nchw)\n\n", sh.name)
	report("process CPU / calling thread's CPU is 1.00 when no other thread did work; CPU / wall is below 1 when other processes take the cores.\n\n")
	report("| contender | process CPU / thread CPU | process CPU / wall |\n| --- | ---: | ---: |\n")
	report("| simdbn %s | %s |\n", bn.Impl(), measure(func() { must(b.Train(d.y, d.x, s, st)) }))
	dn, err := newDnnl(sh.N, sh.C, sh.H, sh.W, dnnlNCHW, eps)
	must(err)
	dn.set(d.x, d.dy, d.gamma, d.beta, d.rm, d.rv)
	report("| oneDNN nchw | %s |\n", measure(func() { dn.run(opTrain) }))
	report("| oneDNN nchw backward | %s |\n", measure(func() { dn.run(opBackward) }))
	dn.free()
	if torchLoaded {
		tc, err := newTorch(sh.N, sh.C, sh.H, sh.W, torchContig, eps, momentum)
		must(err)
		tc.set(d.x, d.dy, d.gamma, d.beta, d.rm, d.rv)
		report("| PyTorch contiguous | %s |\n", measure(func() { tc.run(opTrain) }))
		report("| PyTorch contiguous backward | %s |\n", measure(func() { tc.run(opBackward) }))
		tc.free()
	}
	report("\n")
}

// ---- correctness ----

func maxAbsDiff(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		v := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(v) {
			return math.NaN()
		}
		m = max(m, v)
	}
	return m
}

func maxAbs(a []float32) float64 {
	m := 0.0
	for _, v := range a {
		m = max(m, math.Abs(float64(v)))
	}
	return m
}

func invstdOf(v []float32) []float32 {
	r := make([]float32, len(v))
	for i, x := range v {
		r[i] = float32(1 / math.Sqrt(float64(x)+float64(eps)))
	}
	return r
}

// correctness compares each peer's outputs with simdbn's on one small
// shape, for centred data and for data with a large common offset.
func correctness(report func(string, ...any)) {
	sh := shapeDef{4, 32, 7, 7, "4x32x7x7"}
	report("## Correctness: max abs difference from simdbn (%s, eps %g, momentum %g)\n\n", sh.name, eps, momentum)
	report("Data: x = offset + N(mu_c, sigma_c) with mu_c ~ N(0,1), sigma_c in [0.5, 2]; dy ~ N(0,1); random gamma, beta, running stats. ")
	report("oneDNN keeps no running statistics, so its columns there are empty; it returns the biased variance, compared as invstd = 1/sqrt(var+eps).\n\n")
	report("| peer | layout | offset | y train | mean | invstd | runningMean | runningVar | y infer | dx | dgamma | dbeta | max abs y / dx |\n")
	report("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, offset := range []float64{0, 1e4, 1e6} {
		for layout := range 2 {
			d := genData(sh, layout, offset, 42)
			s := d.bnShape()
			n, C := sh.elems(), sh.C
			// simdbn reference
			bi := d.layer()
			yInf := make([]float32, n)
			must(bi.Infer(yInf, d.x, s))
			bt := d.layer()
			st := newStats(C)
			yTr := make([]float32, n)
			must(bt.Train(yTr, d.x, s, st))
			dx, dg, db := make([]float32, n), make([]float32, C), make([]float32, C)
			must(bt.Backward(dx, dg, db, d.dy, d.x, s, st))
			scale := fmt.Sprintf("%.3g / %.3g", maxAbs(yTr), maxAbs(dx))
			f := func(v float64) string {
				if math.IsNaN(v) {
					return "NaN"
				}
				return fmt.Sprintf("%.2g", v)
			}

			lays := []int{layout}
			if layout == 0 {
				lays = append(lays, dnnlNChw16c)
			}
			for _, dl := range lays {
				dn, err := newDnnl(sh.N, sh.C, sh.H, sh.W, dl, eps)
				must(err)
				dn.set(d.x, d.dy, d.gamma, d.beta, d.rm, d.rv)
				y1, y2, dx2 := make([]float32, n), make([]float32, n), make([]float32, n)
				mean, vr, dsc, dsh := make([]float32, C), make([]float32, C), make([]float32, C), make([]float32, C)
				dn.run(opInfer)
				dn.get(y1, dx2, mean, vr, dsc, dsh)
				dn.run(opTrain)
				dn.run(opBackward)
				dn.get(y2, dx2, mean, vr, dsc, dsh)
				dn.free()
				name := "oneDNN " + layoutNames[layout]
				if dl == dnnlNChw16c {
					name = "oneDNN nChw16c"
				}
				report("| %s | %s | %g | %s | %s | %s | — | — | %s | %s | %s | %s | %s |\n", name, layoutNames[layout], offset,
					f(maxAbsDiff(y2, yTr)), f(maxAbsDiff(mean, st.Mean)), f(maxAbsDiff(invstdOf(vr), st.InvStd)),
					f(maxAbsDiff(y1, yInf)), f(maxAbsDiff(dx2, dx)), f(maxAbsDiff(dsc, dg)), f(maxAbsDiff(dsh, db)), scale)
			}
			if torchLoaded {
				tc, err := newTorch(sh.N, sh.C, sh.H, sh.W, layout, eps, momentum)
				must(err)
				tc.set(d.x, d.dy, d.gamma, d.beta, d.rm, d.rv)
				y1, y2, dx2 := make([]float32, n), make([]float32, n), make([]float32, n)
				mean, is, rm, rv, dw, dbb := make([]float32, C), make([]float32, C), make([]float32, C), make([]float32, C), make([]float32, C), make([]float32, C)
				tc.run(opInfer)
				tc.run(opTrain) // so that get has saved stats to copy
				tc.run(opBackward)
				tc.set(d.x, d.dy, d.gamma, d.beta, d.rm, d.rv)
				tc.run(opInfer)
				tc.get(y1, dx2, mean, is, rm, rv, dw, dbb)
				tc.set(d.x, d.dy, d.gamma, d.beta, d.rm, d.rv)
				tc.run(opTrain)
				tc.run(opBackward)
				flags := tc.get(y2, dx2, mean, is, rm, rv, dw, dbb)
				tc.free()
				name := "PyTorch contiguous"
				if layout == 1 {
					name = "PyTorch channels_last"
				}
				if flags&3 != 3 {
					name += fmt.Sprintf(" (outputs changed layout: %d)", flags)
				}
				report("| %s | %s | %g | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name, layoutNames[layout], offset,
					f(maxAbsDiff(y2, yTr)), f(maxAbsDiff(mean, st.Mean)), f(maxAbsDiff(is, st.InvStd)),
					f(maxAbsDiff(rm, bt.RunningMean)), f(maxAbsDiff(rv, bt.RunningVar)),
					f(maxAbsDiff(y1, yInf)), f(maxAbsDiff(dx2, dx)), f(maxAbsDiff(dw, dg)), f(maxAbsDiff(dbb, db)), scale)
			}
		}
	}
	report("\n")
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
