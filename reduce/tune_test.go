package reduce

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/cpuid/v2"
)

// BenchmarkTune measures, interleaved, copy(), a read-only pass, a
// write-only pass, the statistics pass, Infer, Train and Backward on one
// shape, and reports the medians of their ratios to copy: the numbers
// behind the choice of blockBytes, pipeGroupBytes, backGroupBytes,
// pipeApplyElems, fuseMinRun, pipeBytes, pipeMinRun, ntBytes,
// ntUnalignedMinRun, memOrderBytes, prefetchCLBytes, backPrefetchCLBytes,
// cachedCLBytes, cachedGroupBytes, minBlockC, llcMinBytes, llcBlockBytes,
// unblockedBytes, backUnpipedL3 and inferGroupBytes.
// TUNE_SHAPE=NxCxS[,nhwc], TUNE_BLOCK=bytes, TUNE_PIPEGROUP=bytes,
// TUNE_NT=bytes, TUNE_MEMORDER=bytes, TUNE_PREFETCHCL=bytes,
// TUNE_BACKPREFETCHCL=bytes, TUNE_CACHEDCL=bytes, TUNE_BACKGROUP=bytes,
// TUNE_CACHEDGROUP=bytes, TUNE_PIPEAPPLY=values, TUNE_FUSEMIN=values,
// TUNE_NTRUN=values, TUNE_PIPE=bytes, TUNE_PIPEMINRUN=values,
// TUNE_LLCMIN=bytes, TUNE_LLCBLOCK=bytes, TUNE_UNBLOCKED=bytes,
// TUNE_BACKUNPIPED=bytes, TUNE_INFERGROUP=bytes, TUNE_WORKERS=k (a Pool),
// TUNE_FUSE=0 (Train's pipeline without StatsApplyCF), TUNE_BACKFUSE=0
// (Backward's pipeline through the cache without BackwardSumsApplyCF),
// TUNE_NTSHORT=0 (short unaligned runs without non-temporal stores),
// TUNE_CARRY=0 (chansCF without carryCF) and TUNE_PAIR=0 (the
// channels-first element-wise ops without pairCF, and the pipelined groups
// of Train and Backward on single samples) and TUNE_QUAD=0 (the whole-batch
// normalization in halves, not quarters) pick the case, and TUNE_COLD=1
// makes every op start from memory. read and read2 are plain loops over x,
// and over x and dy (four scalar sums, slower than copy() in cache: 1.96x
// on 8x512x49); write is clear(y), which Go's runtime does with ordinary
// stores below 32 MB and non-temporal ones from there.
// backward-unblocked is Backward with the channel blocks (blocks.go) off,
// for an A/B in one run.
func BenchmarkTune(b *testing.B) {
	s := Shape{N: 32, C: 64, S: 3136}
	if v := os.Getenv("TUNE_SHAPE"); v != "" {
		parts := strings.Split(v, ",")
		d := strings.Split(parts[0], "x")
		s.N, _ = strconv.Atoi(d[0])
		s.C, _ = strconv.Atoi(d[1])
		s.S, _ = strconv.Atoi(d[2])
		if len(parts) > 1 && parts[1] == "nhwc" {
			s.Layout = ChannelsLast
		}
	}
	// Integer knobs: TUNE_<name>=value sets the variable for this run.
	for _, knob := range []struct {
		env string
		v   *int
	}{
		{"TUNE_BLOCK", &blockBytes}, {"TUNE_PIPEGROUP", &pipeGroupBytes}, {"TUNE_NT", &ntBytes},
		{"TUNE_PREFETCHCL", &prefetchCLBytes}, {"TUNE_BACKPREFETCHCL", &backPrefetchCLBytes}, {"TUNE_CACHEDCL", &cachedCLBytes}, {"TUNE_BACKGROUP", &backGroupBytes}, {"TUNE_CACHEDGROUP", &cachedGroupBytes},
		{"TUNE_PIPEAPPLY", &pipeApplyElems}, {"TUNE_FUSEMIN", &fuseMinRun}, {"TUNE_MEMORDER", &memOrderBytes},
		{"TUNE_NTRUN", &ntUnalignedMinRun}, {"TUNE_PIPE", &pipeBytes}, {"TUNE_PIPEMINRUN", &pipeMinRun},
		{"TUNE_LLCMIN", &llcMinBytes}, {"TUNE_LLCBLOCK", &llcBlockBytes}, {"TUNE_UNBLOCKED", &unblockedBytes},
		{"TUNE_BACKUNPIPED", &backUnpipedL3}, {"TUNE_INFERGROUP", &inferGroupBytes},
	} {
		if v := os.Getenv(knob.env); v != "" {
			defer func(p *int, old int) { *p = old }(knob.v, *knob.v)
			*knob.v, _ = strconv.Atoi(v)
		}
	}
	if os.Getenv("TUNE_CARRY") == "0" {
		defer func() { carryOn = true }()
		carryOn = false
	}
	if os.Getenv("TUNE_NTSHORT") == "0" {
		defer func(v bool) { ntShortRuns = v }(ntShortRuns)
		ntShortRuns = false
	}
	if os.Getenv("TUNE_PAIR") == "0" {
		defer func() { pairOn = true }()
		pairOn = false
	}
	if os.Getenv("TUNE_QUAD") == "0" {
		defer func() { quadOn = true }()
		quadOn = false
	}
	if os.Getenv("TUNE_FUSE") == "0" {
		defer func(v bool) { fuseTrain = v }(fuseTrain)
		fuseTrain = false
	}
	if os.Getenv("TUNE_BACKFUSE") == "0" {
		defer func(v bool) { fuseBackward = v }(fuseBackward)
		fuseBackward = false
	}
	var run Runner
	if v := os.Getenv("TUNE_WORKERS"); v != "" {
		k, _ := strconv.Atoi(v)
		run = Pool(k)
	}
	unblocked := func(f func()) func() {
		return func() {
			blockRows = false
			defer func() { blockRows = true }()
			f()
		}
	}
	n := s.Len()
	x, y, dy := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(i%97) * 0.1
		dy[i] = float32(i%89) * 0.01
	}
	mean, inv := make([]float32, s.C), make([]float32, s.C)
	rm, rv := make([]float32, s.C), make([]float32, s.C)
	Train(&TrainArgs{Y: y, X: x, Shape: s, Mean: mean, InvStd: inv, Eps: 1e-5})
	var sink float32
	// TUNE_COLD=1: before each op, copy twice the last-level cache (at
	// least 128 MB) of other data, so that no op finds its inputs in the
	// last-level cache left by the previous one. (A fixed 128 MB left part
	// of a tensor in the 260 MB cache of an Intel Xeon VM.)
	var cold []float32
	if os.Getenv("TUNE_COLD") != "" {
		cold = make([]float32, 2*evictBytes()/4)
	}
	ops := []struct {
		name string
		f    func()
	}{
		{"copy", func() { copy(y, x) }},
		{"read", func() {
			var a0, a1, a2, a3 float32
			for i := 0; i+4 <= len(x); i += 4 {
				a0 += x[i]
				a1 += x[i+1]
				a2 += x[i+2]
				a3 += x[i+3]
			}
			sink += a0 + a1 + a2 + a3
		}},
		{"write", func() { clear(y) }},
		{"read2", func() { // x and dy, as Backward's reductions
			var a0, a1, a2, a3 float32
			for i := 0; i+4 <= len(x); i += 4 {
				a0 += x[i] * dy[i]
				a1 += x[i+1] * dy[i+1]
				a2 += x[i+2] * dy[i+2]
				a3 += x[i+3] * dy[i+3]
			}
			sink += a0 + a1 + a2 + a3
		}},
		{"stats", func() { Moments(make([]float64, 0), nil, x, s) }},
		{"infer", func() { Infer(&InferArgs{Y: y, X: x, Shape: s, Mean: rm, Variance: rv, Eps: 1e-5, Run: run}) }},
		{"train", func() { Train(&TrainArgs{Y: y, X: x, Shape: s, Eps: 1e-5, Run: run}) }},
		{"backward", func() {
			Backward(&BackwardArgs{DX: y, DY: dy, X: x, Shape: s, Mean: mean, InvStd: inv, Run: run})
		}},
	}
	ops = append(ops, struct {
		name string
		f    func()
	}{"backward-unblocked", unblocked(ops[7].f)})
	m64, v64 := make([]float64, s.C), make([]float64, s.C)
	ops[4].f = func() { Moments(m64, v64, x, s) }
	ratios := make([][]float64, len(ops))
	name := fmt.Sprintf("%v", s)
	b.Run(strings.ReplaceAll(name, " ", ""), func(b *testing.B) {
		for b.Loop() {
			var t [10]time.Duration
			for i, op := range ops {
				if cold != nil {
					copy(cold[len(cold)/2:], cold[:len(cold)/2])
				}
				t0 := time.Now()
				op.f()
				t[i] = time.Since(t0)
			}
			for i := range ops {
				ratios[i] = append(ratios[i], float64(t[i])/float64(t[0]))
			}
		}
		for i, op := range ops[1:] {
			r := slices.Clone(ratios[i+1])
			slices.Sort(r)
			b.ReportMetric(r[len(r)/2], op.name+"/copy")
		}
	})
	_ = sink
}

// evictBytes is what a copy must move to push everything out of the
// last-level cache: twice its size as CPUID reports it, and at least
// 128 MB.
func evictBytes() int { return max(128<<20, 2*cpuid.CPU.Cache.L3) }
