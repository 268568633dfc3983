// Command bnbench times simdbn's ops against Go's copy() of the same
// tensor, interleaved in one process, and prints a table: op, layout,
// shape, impl, time per call, ratio to copy, GB/s and speed-up over generic.
//
//	go run ./bench/cmd/bnbench                          # six shapes, all ops, layouts, impls
//	go run ./bench/cmd/bnbench -shapes 32x64x56x56 -ops train -format markdown
//	go run ./bench/cmd/bnbench -sizes > sizes.csv       # size sweep for bnchart
//
// Progress goes to stderr, the table to stdout. See bench/README.md.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/simdbn/simdbn/bench"
	"github.com/simdbn/simdbn/bn"
)

func main() {
	var (
		shapes     = flag.String("shapes", "", "comma list of NxCxD1x... shapes (N first, C second, the rest multiply into S); default the six of bench.Shapes")
		ops        = flag.String("ops", "train,infer,backward,stats,stats2", "comma list of ops")
		layouts    = flag.String("layouts", "nchw,nhwc", "comma list of layouts (nchw, nhwc); -sizes defaults to nchw")
		impls      = flag.String("impls", "", "comma list of implementations; default all this CPU runs, then naive-f64 ("+strings.Join(bench.Impls(), ",")+")")
		goroutines = flag.Int("goroutines", 1, "goroutines per call: BatchNorm.Workers (copy(), naive-f64, stats, stats2 and batches below bn.SplitMin values stay on one)")
		format     = flag.String("format", "text", "table format: text, markdown or csv")
		samples    = flag.Int("samples", 5, "samples per case; the median ratio is reported")
		target     = flag.Duration("time", 10*time.Millisecond, "target time of each side (copy, then the op) of one sample")
		sizes      = flag.Bool("sizes", false, "sweep the tensor size (8 x 64 x S, S doubling) and print csv for bnchart")
		minBytes   = flag.Int64("minbytes", 64<<10, "smallest tensor of -sizes, in bytes")
		maxBytes   = flag.Int64("maxbytes", 256<<20, "largest tensor of -sizes, in bytes")
	)
	flag.Parse()
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })

	if f := *format; f != "text" && f != "markdown" && f != "csv" {
		fail(fmt.Errorf("-format %q: want text, markdown or csv", f))
	}
	cfg := bench.Config{Goroutines: *goroutines, Samples: *samples, Target: *target}
	var err error
	switch {
	case *sizes && *shapes != "":
		fail(fmt.Errorf("-sizes and -shapes exclude each other"))
	case *sizes:
		cfg.Shapes = bench.SweepShapes(*minBytes, *maxBytes)
		if !set["layouts"] {
			*layouts = "nchw"
		}
	case *shapes != "":
		cfg.Shapes, err = bench.ParseShapes(*shapes)
	default:
		cfg.Shapes = bench.Shapes
	}
	fail(err)
	for _, o := range split(*ops) {
		op, err := bench.ParseOp(o)
		fail(err)
		cfg.Ops = append(cfg.Ops, op)
	}
	for _, l := range split(*layouts) {
		lay, err := bench.ParseLayout(l)
		fail(err)
		cfg.Layouts = append(cfg.Layouts, lay)
	}
	cfg.Impls, err = bench.CheckImpls(split(*impls))
	fail(err)
	if len(cfg.Shapes) == 0 || len(cfg.Ops) == 0 || len(cfg.Layouts) == 0 {
		fail(fmt.Errorf("nothing to measure"))
	}

	notes := []string{
		fmt.Sprintf("simdbn bnbench: %s/%s, GOMAXPROCS=%d, default impl %s, %d samples of %v per side",
			runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), bn.Impl(), cfg.Samples, cfg.Target),
		"machine: " + bench.Machine(),
		"time: median per call; x copy: median of time / time of copy() of the same tensor, interleaved; GB/s: 8 B/elem train and infer, 12 B/elem backward, 4 B/elem stats (reduce.MeanVar: one read of x, the read-only reference), 8 B/elem stats2 (MeanVar of x, then of dy: the read-only reference for backward)",
	}
	notes = append(notes, fmt.Sprintf("goroutines: %d per call (BatchNorm.Workers; copy(), naive-f64, stats, stats2 and batches below bn.SplitMin values, bn.SplitMinBackward for backward, always 1)", max(*goroutines, 1)))

	// Two goroutines on cache-resident shapes gain with how fast the
	// cores hand a cache line to each other, which on a virtual machine
	// can change from minute to minute: report it on both sides of the
	// cases.
	var handoff [2]time.Duration
	if *goroutines > 1 {
		handoff[0] = bench.Handoff(handoffRounds, handoffBatches)
	}
	// The csv table has no notes: name the machine in the progress too.
	fmt.Fprintln(os.Stderr, "bnbench: machine:", bench.Machine())
	start := time.Now()
	rows, err := bench.Measure(cfg, os.Stderr)
	fail(err)
	fmt.Fprintf(os.Stderr, "bnbench: %d cases in %v\n", len(rows), time.Since(start).Round(time.Millisecond))
	if *goroutines > 1 {
		handoff[1] = bench.Handoff(handoffRounds, handoffBatches)
		n := fmt.Sprintf("cross-core round trip (bench.Handoff): %.2f us before the cases, %.2f us after",
			handoff[0].Seconds()*1e6, handoff[1].Seconds()*1e6)
		fmt.Fprintln(os.Stderr, "bnbench:", n)
		notes = append(notes, n)
	}
	if *sizes {
		fail(bench.WriteSweepCSV(os.Stdout, rows))
		return
	}
	fail(bench.WriteTable(os.Stdout, rows, *format, notes))
}

// handoffRounds and handoffBatches size bench.Handoff's measurement:
// about 50 ms at 0.5 us per round trip.
const (
	handoffRounds  = 10000
	handoffBatches = 9
)

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bnbench:", err)
		os.Exit(2)
	}
}
