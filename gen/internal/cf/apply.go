package cf

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// ApplyCF generates applyCF<ISA>, the form of fallback.ApplyCF, and
// applyCFNT<ISA>, the same with non-temporal stores.
func ApplyCF(isa ISA) {
	elementwise(isa, false, false)
	elementwise(isa, false, true)
	pairedNT(isa, false, 2)
	pairedNT(isa, false, 4)
}

// BackwardApplyCF generates backwardApplyCF<ISA>, the form of
// fallback.BackwardApplyCF, and backwardApplyCFNT<ISA> with non-temporal
// stores.
func BackwardApplyCF(isa ISA) {
	elementwise(isa, true, false)
	elementwise(isa, true, true)
	pairedNT(isa, true, 2)
}

// paramStrideCF is fallback.ParamStrideCF, in bytes.
const paramStrideCF = 8 * 4

// unroll is the number of vectors per iteration of the main loop.
const unroll = 4

// elementwise emits ApplyCF (backward false) or BackwardApplyCF; with nt,
// the full vectors are stored with VMOVNTPS (non-temporal: they bypass the
// cache and need no read for ownership) and an SFENCE orders them before
// the return. VMOVNTPS needs an aligned address, and a line written only
// in part by non-temporal stores goes to memory as a partial write, so
// the nt form stores each run's head, up to the output's next 64-byte
// line, the ordinary way (one masked zmm, or two masked ymm for AVX2),
// and splits the rest of the run from there; masked tails use ordinary
// stores too. Runs of ShortRunMin to ShortRunMax-1 values take the nt
// form, and ApplyCF's ordinary-store form, sample by sample instead
// (shortRuns; walksShortRuns).
//
// One offset register walks the block: run (i, j) starts at byte offset
// 4*(i*stride + j*s), right after run (i, j-1). Each run broadcasts its
// channel's parameters once, then runs unroll-vector iterations, single
// vectors, and one masked vector for the last s % W values.
func elementwise(isa ISA, backward, nt bool) {
	walk := walksShortRuns(backward, nt)
	var sig, prefix string
	var np int
	if backward {
		prefix, np = "backwardApplyCF", 5
		sig = "func(dx, dy, x []float32, n, c, s, stride int, p []float32)"
	} else {
		prefix, np = "applyCF", 4
		sig = "func(y, x []float32, n, c, s, stride int, p []float32)"
	}
	if nt {
		prefix += "NT"
	}
	name := prefix + isa.Suffix
	tab := maskTable(isa, prefix)

	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	ntDoc := "It stores with ordinary stores."
	if walk && !nt {
		ntDoc = fmt.Sprintf("It stores with ordinary stores, and walks runs of %d to %d values sample by sample.", ShortRunMin, ShortRunMax-1)
	}
	if nt {
		ntDoc = fmt.Sprintf("It stores full vectors non-temporally, from each run's first 64-byte boundary of the output on (runs of %d to %d values: from each sample's).", ShortRunMin, ShortRunMax-1)
	}
	if backward {
		Doc(name+" is the "+isa.Suffix+" form of fallback.BackwardApplyCF, with the same bits.",
			"dx may be the very same slice as dy or x. "+ntDoc)
	} else {
		Doc(name+" is the "+isa.Suffix+" form of fallback.ApplyCF, with the same bits.",
			"y may be the very same slice as x. "+ntDoc)
	}

	var out, in1, in2 Mem // in1: x; in2: dy (backward)
	if backward {
		out = Mem{Base: Load(Param("dx").Base(), GP64()), Scale: 1}
		in2 = Mem{Base: Load(Param("dy").Base(), GP64()), Scale: 1}
	} else {
		out = Mem{Base: Load(Param("y").Base(), GP64()), Scale: 1}
	}
	in1 = Mem{Base: Load(Param("x").Base(), GP64()), Scale: 1}
	pp := Load(Param("p").Base(), GP64())

	n := Load(Param("n"), GP64())
	TESTQ(n, n)
	JZ(LabelRef(lbl(name, "done")))
	s := Load(Param("s"), GP64())
	TESTQ(s, s)
	JZ(LabelRef(lbl(name, "done")))
	CMPQ(paramAddr("c"), U8(0))
	JLE(LabelRef(lbl(name, "done")))

	// split sets nbig = r / (unroll*W), nvec = r / W % unroll and t = r % W
	// for a stretch of r values (r in t's register), and the tail mask;
	// neg is scratch.
	shift := 4
	if !isa.Z {
		shift = 3
	}
	nbig, nvec := GP64(), GP64()
	t := s
	tb := Mem{Base: GP64()}
	LEAQ(tab, tb.Base)
	if walk {
		CMPQ(s, U8(ShortRunMin))
		JL(LabelRef(lbl(name, "runs")))
		CMPQ(s, U32(ShortRunMax))
		JL(LabelRef(lbl(name, "short")))
		Label(lbl(name, "runs"))
	}
	// mask loads the mask of the first (n's value) lanes into k (AVX-512)
	// or m (AVX2); neg is scratch.
	mask := func(n, neg Register, k Register, m VecVirtual) {
		if isa.Z {
			KMOVW(tb.Idx(n, 4), k)
			return
		}
		MOVQ(n, neg)
		NEGQ(neg)
		VMOVDQU(tb.Idx(neg, 4).Offset(4*Lanes), m)
	}
	var k, kh Register
	var m, mh, mh2 VecVirtual // mh2: the head's second ymm (AVX2)
	if isa.Z {
		k = K()
		if nt {
			kh = K()
		}
	} else {
		m = isa.Vec()
		if nt {
			mh, mh2 = isa.Vec(), isa.Vec()
		}
	}
	split := func(neg Register) {
		MOVQ(t, nbig)
		SHRQ(U8(shift+2), nbig)
		MOVQ(t, nvec)
		SHRQ(U8(shift), nvec)
		ANDQ(U8(unroll-1), nvec)
		ANDQ(U8(isa.W-1), t)
		mask(t, neg, k, m)
	}
	if !nt {
		split(GP64())
	}

	rowOff := GP64() // 4*i*stride
	XORQ(rowOff, rowOff)
	off := GP64()
	pc, cnt, pcur := GP64(), GP64(), GP64()

	params := make([]VecVirtual, np)
	for i := range params {
		params[i] = isa.Vec()
	}

	// vecMask computes one vector at byte offset d from off; a masked
	// vector takes the mask given (k on AVX-512, m on AVX2).
	vecMask := func(d int, masked bool, k Register, m VecVirtual) {
		at := func(b Mem) Mem { return b.Idx(off, 1).Offset(d) }
		load := func(b Mem, r VecVirtual) {
			switch {
			case !masked:
				VMOVUPS(at(b), r)
			case isa.Z:
				VMOVUPS_Z(at(b), k, r)
			default:
				VMASKMOVPS(at(b), m, r)
			}
		}
		t := isa.Vec()
		load(in1, t)
		VSUBPS(params[0], t, t) // t = x - hi
		VSUBPS(params[1], t, t) // t -= lo
		var r VecVirtual
		if backward {
			VMULPS(params[3], t, t) // t = t*k3
			r = isa.Vec()
			load(in2, r)
			VMULPS(params[4], r, r) // u = dy*k1
			VSUBPS(params[2], r, r) // u -= k2
			VSUBPS(t, r, r)         // u -= t
		} else {
			VMULPS(params[2], t, t) // t*a
			VADDPS(params[3], t, t) // + b
			r = t
		}
		switch {
		case !masked && nt:
			VMOVNTPS(r, at(out))
		case !masked:
			VMOVUPS(r, at(out))
		case isa.Z:
			VMOVUPS(r, k, at(out))
		default:
			VMASKMOVPS(r, m, at(out))
		}
	}
	// vec computes one vector at byte offset d from off; masked vectors
	// take the tail mask, or with head the head's mask of the vector at d
	// (AVX2's head has two).
	vec := func(d int, masked, head bool) {
		k, m := k, m
		if head {
			k, m = kh, mh
			if d > 0 {
				m = mh2
			}
		}
		vecMask(d, masked, k, m)
	}

	Label(lbl(name, "sample"))
	MOVQ(rowOff, off)
	MOVQ(paramAddr("c"), pc)
	MOVQ(pp, pcur)

	Label(lbl(name, "channel"))
	for i, r := range params {
		VBROADCASTSS(Mem{Base: pcur, Disp: 4 * i}, r)
	}
	if nt {
		Comment("Head: h = min(s, values up to the output's next 64-byte line).")
		LEAQ(out.Idx(off, 1), cnt)
		NEGQ(cnt)
		ANDQ(U8(63), cnt)
		SHRQ(U8(2), cnt)
		MOVQ(paramAddr("s"), t)
		CMPQ(cnt, t)
		JLE(LabelRef(lbl(name, "headlen")))
		MOVQ(t, cnt)
		Label(lbl(name, "headlen"))
		SUBQ(cnt, t)
		TESTQ(cnt, cnt)
		JZ(LabelRef(lbl(name, "split")))
		mask(cnt, nbig, kh, mh)
		vec(0, true, true)
		if !isa.Z {
			// Lanes 8..h-1 (none when h <= 8): the second ymm's mask
			// follows the first's in the table.
			VMOVDQU(tb.Idx(nbig, 4).Offset(4*Lanes+isa.Bytes()), mh2)
			vec(isa.Bytes(), true, true)
		}
		LEAQ(Mem{Base: off, Index: cnt, Scale: 4}, off)
		Label(lbl(name, "split"))
		split(cnt)
	}
	wholeVectors(isa, name, "tail", off, cnt, nbig, nvec, isa.Bytes(), func(d int) { vec(d, false, false) })

	Label(lbl(name, "tail"))
	TESTQ(t, t)
	JZ(LabelRef(lbl(name, "next")))
	vec(0, true, false)
	LEAQ(Mem{Base: off, Index: t, Scale: 4}, off)

	nextRun(name, pcur, cnt, rowOff, pc, n)
	if walk {
		JMP(LabelRef(lbl(name, "done")))
		shortRuns(isa, name, out, pp, n, off, params, tb, mask, vecMask)
	}

	Label(lbl(name, "done"))
	if nt {
		SFENCE()
	}
	VZEROUPPER()
	RET()
}

// ShortRunMin and ShortRunMax bound the run lengths s that the
// non-temporal element-wise kernels walk sample by sample instead of run by
// run (shortRuns).
const (
	ShortRunMin = 16
	ShortRunMax = 256
)

// shortRuns emits the non-temporal element-wise kernels' path for runs of
// ShortRunMin to ShortRunMax-1 values. A sample's c runs are contiguous,
// so it walks them as one stretch of c*s values: the head up to the
// output's next 64-byte line and the tail with masked ordinary stores,
// every vector between non-temporally, whole lines. A vector that holds
// the end of one channel and the start of the next takes the next
// channel's parameters in the lanes past the boundary (s >= W, so a vector
// holds at most two channels); each lane gets its own channel's
// parameters, in the same operations, so the values are the same. Run by
// run, each short run's head and tail would go out as ordinary stores on
// lines that the neighbouring runs write non-temporally: from memory
// (8x512x7x7, 32x2048x7x7 and 256x512x7x7, a temporary benchmark, medians
// of 100), ApplyCFNT took 1.91-2.11x copy() that way, against 1.26-1.49
// with ordinary stores throughout and 0.96-1.10 here (AVX-512; AVX2
// 1.08-1.16).
//
// ApplyCF's ordinary-store form walks short runs this way too
// (walksShortRuns): every whole vector then fills one 64-byte line of
// the output, where a run-by-run walk writes most lines in two parts
// (a run's last vector and the next run's first) and loads and stores
// across line boundaries. It pays where the output is not in L1 or L2
// when the call starts, as in a network, where y is the next layer's
// input and was last written long before. bnbench, channels first,
// three alternating pairs of binaries (2026-12-07, about 20:58 UTC):
// Infer of 8x512x7x7 took 1.50-1.53x copy() run by run and 1.28-1.31
// walked (AVX2 1.46-1.54 and 1.38-1.42), of 16x64x14x14 1.24-1.31 and
// 1.12-1.16 (AVX2 1.22-1.27 and 1.20); Train of 8x512x7x7 2.59-2.73
// and 2.37-2.49 (AVX2 2.93-3.14 and 2.84-3.00), of 16x64x14x14
// 2.01-2.07 and 1.89-1.98; runs outside 16-255 values level. Infer
// alternating with a copy() into a third buffer (a temporary test, 400
// rounds, medians): 8x512x7x7 1.46 -> 1.11, runs of 47, 52, 56, 57, 63
// and 65 values 1.29-1.46 -> 1.13-1.17, runs of 48 and 64 (whole lines
// already) 1.17 -> 1.16-1.19. With the output kept in L2 between calls
// (the kernel alone, back to back) the two walks were level or a few
// percent apart, as an earlier trial of this form found that day (the
// normalization of 8x512x7x7 1.10 -> 1.06x copy() in one call, and
// 1.15-1.27 -> 1.23-1.34 in calls of 8 channels; Train's calls there
// take groups of 334 channels, Infer's the whole batch). Backward's
// apply keeps its run-by-run walk: walked, Backward of 8x512x7x7 moved
// from 3.48-3.95 to 3.27-3.98 in three pairs and was level in five more
// (medians 3.69 and 3.67), 16x64x14x14 likewise (3.39-3.92 -> 3.23-3.49,
// then 3.60 and 3.82); alternating with a copy() into a third buffer, as
// Infer above (300 rounds, three runs each way, old and new test binaries
// alternating), 8x512x7x7 2.05-2.09 -> 2.01-2.02, 16x64x14x14 2.33-2.40
// -> 2.29-2.42, 32x128x7x7 2.27-2.32 -> 2.22-2.28: a few percent at most.
// Software prefetches in the ordinary-store walk (one PREFETCHT0 of y per
// whole vector 1 or 2 KB ahead, or of y and x 1 KB ahead) did not gain
// (bnbench, AVX-512, three rounds of four binaries alternating,
// 2026-12-07): Infer of 8x512x7x7 1.28-1.51x copy() without, 1.36-1.67
// with; Train of 8x512x7x7 2.41-2.47 without, 2.48-3.31 with. What this
// walk waits for there is y: an ordinary store first fetches its line (a
// read for ownership). asm's BenchmarkShortRunsOutput (8x512x7x7 in one
// call, x in L2; three runs, 2026-12-07 22:03 UTC) took 43-53 us with y
// in the last-level cache and 26-27 with y in L2 too (18-19 in L1, asm's
// RunsInL1); with a PREFETCHT0 of y 512 B, 2 KB or 8 KB ahead (two runs
// each), 40-42 us (59 once) and 29-30. Nor did prefetching y earlier, in
// the statistics pass of the same group (StatsCFChans prefetching y's
// lines of each run it reads, a temporary form): Train of 8x512x7x7 took
// 91-98 us with it against 85-92 without, 8x256x14x14 157-161 against
// 136-138 (after 8 MB of other copies, medians of 3000 calls, three
// rounds, 2026-12-07). Nor would fast-string stores, which may write whole
// lines without reading them: in a scratch C model (y = x*a + b over
// 802 KB, x in L2 and y in the last-level cache, best of 200, three runs)
// the direct AVX-512 stores took 34.5 us, each 1, 4 or 16 KB computed into
// a buffer in L1 and moved to y by REP MOVSB 38.5-42.7, and REP STOSB of
// zeros over y alone 27.6-28.0.
//
// rem holds the values left in the current channel (1..s), left those
// left in the sample, pcur the current channel's parameters.
func shortRuns(isa ISA, name string, out Mem, pp, n, off Register, params []VecVirtual, tb Mem,
	mask func(n, neg Register, k Register, m VecVirtual), vecMask func(d int, masked bool, k Register, m VecVirtual)) {
	W := isa.W
	l := func(s string) string { return lbl(name, "short"+s) }
	Label(lbl(name, "short"))
	rowOff, rem, left, pcur, neg := GP64(), GP64(), GP64(), GP64(), GP64()
	var kl, km Register   // AVX-512: the lanes before a boundary, the lanes of a masked step
	var ml, mm VecVirtual // AVX2: the same as vectors
	if isa.Z {
		kl, km = K(), K()
	} else {
		ml, mm = isa.Vec(), isa.Vec()
	}
	XORQ(rowOff, rowOff)
	enter := func() {
		for i, r := range params {
			VBROADCASTSS(Mem{Base: pcur, Disp: 4 * i}, r)
		}
	}
	// mix gives the lanes from rem on the next channel's parameters.
	mix := func() {
		mask(rem, neg, kl, ml)
		for i, r := range params {
			t := isa.Vec()
			VBROADCASTSS(Mem{Base: pcur, Disp: paramStrideCF + 4*i}, t)
			if isa.Z {
				VBLENDMPS(r, t, kl, r) // lanes before the boundary keep r
			} else {
				VBLENDVPS(ml, r, t, r)
			}
		}
	}
	// nextChannel moves to the next channel after a boundary at lane b of
	// the step (rem = s - (step - b)); the caller has set rem to
	// rem - step (<= 0).
	nextChannel := func() {
		ADDQ(paramAddr("s"), rem)
		ADDQ(U8(paramStrideCF), pcur)
	}
	// step runs a masked step of cnt values (1..W), which may cross one
	// channel boundary.
	stepN := 0
	step := func(cnt Register) {
		stepN++
		id := fmt.Sprint(stepN)
		mask(cnt, neg, km, mm)
		CMPQ(rem, cnt)
		JGE(LabelRef(l("one" + id)))
		mix()
		Label(l("one" + id))
		vecMask(0, true, km, mm)
		LEAQ(Mem{Base: off, Index: cnt, Scale: 4}, off)
		SUBQ(cnt, left)
		SUBQ(cnt, rem)
		JG(LabelRef(l("stepped" + id)))
		nextChannel()
		TESTQ(left, left)
		JZ(LabelRef(l("stepped" + id)))
		enter()
		Label(l("stepped" + id))
	}

	Label(l("sample"))
	MOVQ(rowOff, off)
	MOVQ(pp, pcur)
	MOVQ(paramAddr("s"), rem)
	MOVQ(paramAddr("c"), left)
	IMULQ(rem, left)
	enter()
	Comment("Head: h = min(c*s, values up to the output's next 64-byte line), in steps of at most W.")
	h := GP64()
	LEAQ(out.Idx(off, 1), h)
	NEGQ(h)
	ANDQ(U8(63), h)
	SHRQ(U8(2), h)
	CMPQ(h, left)
	JLE(LabelRef(l("headlen")))
	MOVQ(left, h)
	Label(l("headlen"))
	for part := 0; part < 64/isa.Bytes(); part++ {
		TESTQ(h, h)
		JZ(LabelRef(l("full")))
		c := GP64()
		MOVQ(h, c)
		if part == 0 && !isa.Z {
			CMPQ(c, U8(W))
			JLE(LabelRef(l("headpart")))
			MOVQ(U32(W), c)
			Label(l("headpart"))
		}
		SUBQ(c, h)
		step(c)
	}

	Comment("Whole vectors; a vector that crosses into the next channel mixes the parameters.")
	Label(l("full"))
	CMPQ(left, U8(W))
	JL(LabelRef(l("tail")))
	CMPQ(rem, U8(W))
	JLE(LabelRef(l("edge")))
	vecMask(0, false, nil, nil)
	ADDQ(U8(isa.Bytes()), off)
	SUBQ(U8(W), rem)
	SUBQ(U8(W), left)
	JMP(LabelRef(l("full")))

	Label(l("edge"))
	JE(LabelRef(l("ends")))
	mix()
	Label(l("ends"))
	vecMask(0, false, nil, nil)
	ADDQ(U8(isa.Bytes()), off)
	SUBQ(U8(W), left)
	SUBQ(U8(W), rem)
	nextChannel()
	TESTQ(left, left)
	JZ(LabelRef(l("next")))
	enter()
	JMP(LabelRef(l("full")))

	Label(l("tail"))
	TESTQ(left, left)
	JZ(LabelRef(l("next")))
	step(left)

	Label(l("next"))
	MOVQ(paramAddr("stride"), neg)
	LEAQ(Mem{Base: rowOff, Index: neg, Scale: 4}, rowOff)
	DECQ(n)
	JNZ(LabelRef(l("sample")))
}

// pairedNT emits ApplyCFNTPair (backward false) or BackwardApplyCFNTPair:
// the NT element-wise kernel over two blocks at once, the block at the
// slices' start and the block pair values on, vector by vector in
// lockstep; with streams 4, ApplyCFNTQuad: four blocks, pair values
// apart. One core streaming one input and one output leaves memory
// bandwidth unused that more sets of streams take: from memory (25.7 MB,
// a temporary benchmark, medians of 40, two runs), a scaled copy with
// non-temporal stores took 1.15 ms as one stream, 1.08-1.09 as two and
// 1.06 as four (copy() 1.24-1.29); with the data partly in the last-level
// cache 0.84-0.88, 0.79-0.80 and 0.77-0.78. Walked as Infer walks a batch
// (a call per sample, its samples N/2 or N/4 apart; 32x64x56x56, two runs
// on 2026-12-07), two streams took 1.12-1.16 ms and four 1.02 (one 1.24-1.27,
// copy() 1.30-1.34). Backward's form stays at two: its three streams a
// block need three base registers each.
//
// It takes only whole lines: s and stride multiples of 16, the output 64
// bytes aligned, pair a multiple of 16; no heads, no masks.
func pairedNT(isa ISA, backward bool, streams int) {
	var sig, prefix, outName, what string
	var np int
	if backward {
		prefix, np, outName, what = "backwardApplyCFNTPair", 5, "dx", "BackwardApplyCFPair"
		sig = "func(dx, dy, x []float32, n, c, s, stride, pair int, p []float32)"
	} else {
		prefix, np, outName, what = "applyCFNTPair", 4, "y", "ApplyCFPair"
		sig = "func(y, x []float32, n, c, s, stride, pair int, p []float32)"
	}
	blocks := "the two blocks"
	if streams == 4 {
		must(!backward, "four streams: ApplyCF only")
		prefix, what, blocks = "applyCFNTQuad", "ApplyCFQuad", "the four blocks"
	}
	name := prefix + isa.Suffix
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(name+" is the "+isa.Suffix+" form of fallback."+what+", with the same bits, storing non-temporally.",
		"It requires s, stride and pair to be multiples of 16 and "+outName+" to start on a 64-byte boundary;",
		blocks+" may not overlap, and "+outName+" may be the very same slice as an input.")
	nLeft, chLeft, nlinesM := AllocLocal(8), AllocLocal(8), AllocLocal(8)

	// The base registers of each block's streams: block k starts k*pair
	// values on.
	outs, xs, dys := make([]Register, streams), make([]Register, streams), make([]Register, streams)
	outs[0] = Load(Param(outName).Base(), GP64())
	xs[0] = Load(Param("x").Base(), GP64())
	if backward {
		dys[0] = Load(Param("dy").Base(), GP64())
	}
	d := Load(Param("pair"), GP64())
	SHLQ(U8(2), d)
	for k := 1; k < streams; k++ {
		outs[k], xs[k] = GP64(), GP64()
		LEAQ(Mem{Base: outs[k-1], Index: d, Scale: 1}, outs[k])
		LEAQ(Mem{Base: xs[k-1], Index: d, Scale: 1}, xs[k])
		if backward {
			dys[k] = GP64()
			LEAQ(Mem{Base: dys[k-1], Index: d, Scale: 1}, dys[k])
		}
	}

	t := Load(Param("n"), GP64())
	TESTQ(t, t)
	JLE(LabelRef(lbl(name, "done")))
	MOVQ(t, nLeft)
	CMPQ(paramAddr("c"), U8(0))
	JLE(LabelRef(lbl(name, "done")))
	shift := 4
	if !isa.Z {
		shift = 3
	}
	// nbig iterations of unroll vectors, then nlines single lines.
	linesPerBig := unroll * isa.Bytes() / 64
	s := Load(Param("s"), GP64())
	nbig := GP64()
	MOVQ(s, nbig)
	SHRQ(U8(shift+2), nbig)
	SHRQ(U8(4), s)
	ANDQ(U8(linesPerBig-1), s)
	MOVQ(s, nlinesM)
	MOVQ(nbig, s)
	ORQ(nlinesM, s)
	JZ(LabelRef(lbl(name, "done")))

	pp := Load(Param("p").Base(), GP64())
	rowOff, off, pcur, cnt := GP64(), GP64(), GP64(), GP64()
	XORQ(rowOff, rowOff)
	params := make([]VecVirtual, np)
	for i := range params {
		params[i] = isa.Vec()
	}
	// one computes the vector at byte offset dd from off of one block.
	one := func(out, x, dy Register, dd int) {
		at := func(b Register) Mem { return Mem{Base: b, Index: off, Scale: 1, Disp: dd} }
		v := isa.Vec()
		VMOVUPS(at(x), v)
		VSUBPS(params[0], v, v) // v = x - hi
		VSUBPS(params[1], v, v) // v -= lo
		r := v
		if backward {
			VMULPS(params[3], v, v) // v = v*k3
			r = isa.Vec()
			VMOVUPS(at(dy), r)
			VMULPS(params[4], r, r) // u = dy*k1
			VSUBPS(params[2], r, r) // u -= k2
			VSUBPS(v, r, r)         // u -= v
		} else {
			VMULPS(params[2], v, v) // v*a
			VADDPS(params[3], v, v) // + b
		}
		VMOVNTPS(r, at(out))
	}
	// line computes the 64-byte line at byte offset dd from off of every
	// block, each block's line whole before the next block's: AVX2's two
	// stores to one line of each block in a row. Stored half a line at a
	// time, every block's line is left half written while the others are
	// written, and on an Intel Xeon (family 6 model 207; tune harness,
	// 32x64x56x56, two runs) the AVX2 Infer walked in quarters took
	// 1.20-1.27x copy(), against 0.80-0.88 in halves and 0.74-0.75 one
	// sample at a time; line by line, 0.68-0.75 in quarters. In bnbench
	// (three alternating pairs), AVX2 Infer of 32x64x56x56 channels first
	// went from 1.04-1.08 to 0.61-0.63, of 64x128x56x56 from 0.87 to
	// 0.57-0.60, Train of 32x64x56x56 from 0.89-0.92 to 0.78-0.83 (its
	// StatsApplyCFPair stores the same way) and Backward from 2.03-2.12
	// to 1.89-1.99. AVX-512's vector is a line: its code is unchanged.
	line := func(dd int) {
		for k := range streams {
			for v := 0; v < 64; v += isa.Bytes() {
				one(outs[k], xs[k], dys[k], dd+v)
			}
		}
	}

	Label(lbl(name, "sample"))
	MOVQ(rowOff, off)
	MOVQ(pp, pcur)
	MOVQ(paramAddr("c"), cnt)
	MOVQ(cnt, chLeft)

	Label(lbl(name, "channel"))
	for i, r := range params {
		VBROADCASTSS(Mem{Base: pcur, Disp: 4 * i}, r)
	}
	wholeVectors(isa, name, "next", off, cnt, nbig, nlinesM, 64, line)

	nextRun(name, pcur, cnt, rowOff, chLeft, nLeft)

	Label(lbl(name, "done"))
	SFENCE()
	VZEROUPPER()
	RET()
}

// nextRun emits, at the label next, the end of a run of the run-by-run
// element-wise kernels: the next channel's parameters (pcur) while
// channels are left (chLeft), looping to the label channel, then the next
// sample (rowOff += stride) while samples are left (nLeft), looping to the
// label sample; cnt is scratch.
func nextRun(name string, pcur, cnt, rowOff Register, chLeft, nLeft Op) {
	Label(lbl(name, "next"))
	ADDQ(U8(paramStrideCF), pcur)
	DECQ(chLeft)
	JNZ(LabelRef(lbl(name, "channel")))

	Comment("Next sample.")
	MOVQ(paramAddr("stride"), cnt)
	LEAQ(Mem{Base: rowOff, Index: cnt, Scale: 4}, rowOff)
	DECQ(nLeft)
	JNZ(LabelRef(lbl(name, "sample")))
}

// wholeVectors emits a run's whole vectors from byte offset off on: nbig
// iterations of unroll vectors, then nrest single steps of step bytes (a
// vector, or a 64-byte line of several), vec(d) emitting the step d bytes
// past off; it goes on at the label after. cnt is scratch.
func wholeVectors(isa ISA, name, after string, off, cnt Register, nbig, nrest Op, step int, vec func(d int)) {
	MOVQ(nbig, cnt)
	TESTQ(cnt, cnt)
	JZ(LabelRef(lbl(name, "vectors")))
	Label(lbl(name, "big"))
	for d := 0; d < unroll*isa.Bytes(); d += step {
		vec(d)
	}
	ADDQ(U32(unroll*isa.Bytes()), off)
	DECQ(cnt)
	JNZ(LabelRef(lbl(name, "big")))

	Label(lbl(name, "vectors"))
	MOVQ(nrest, cnt)
	TESTQ(cnt, cnt)
	JZ(LabelRef(lbl(name, after)))
	Label(lbl(name, "vector"))
	vec(0)
	ADDQ(U8(step), off)
	DECQ(cnt)
	JNZ(LabelRef(lbl(name, "vector")))
}

// walksShortRuns reports whether an element-wise kernel walks runs of
// ShortRunMin to ShortRunMax-1 values sample by sample (shortRuns): the
// non-temporal forms, whose stores need whole lines, and ApplyCF's
// ordinary-store form, which measured faster so (shortRuns has the
// numbers).
func walksShortRuns(backward, nt bool) bool { return nt || !backward }
