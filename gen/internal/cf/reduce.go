package cf

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// StatsCF generates statsCF<ISA>, statsCFChans<ISA> and statsCFCarry<ISA>,
// the forms of fallback.StatsCF, fallback.StatsCFChans and
// fallback.StatsCFCarry.
func StatsCF(isa ISA) {
	tab := maskTable(isa, "statsCF")
	reduction(isa, false, false, false, tab)
	reduction(isa, false, true, false, tab)
	reduction(isa, false, true, true, tab)
}

// BackwardCF generates backwardCF<ISA>, backwardCFChans<ISA>,
// backwardCFCarry<ISA> and backwardCFPair<ISA>, the forms of
// fallback.BackwardCF, fallback.BackwardCFChans, fallback.BackwardCFCarry
// and fallback.BackwardCFPair.
func BackwardCF(isa ISA) {
	tab := maskTable(isa, "backwardCF")
	reduction(isa, true, false, false, tab)
	reduction(isa, true, true, false, tab)
	reduction(isa, true, true, true, tab)
	BackwardCFPair(isa)
}

// prefetchLines is the number of cache lines at the start of each run that
// the Chans kernels prefetch two channels ahead. A short run is a few lines
// C*S values after the last one read, which the hardware prefetchers do not
// follow from channel to channel: measured on 8x512x7x7 channels first
// (bnbench, backward, AVX-512), 4.3-5.3x copy without, 3.9-4.0 with 4 lines
// (2 lines: 4.4-4.5; 8: 3.9-4.2); training, whose statistics read one
// tensor, did not move. Only channels that exist are prefetched; of a run
// shorter than 4 lines, the lines past it may lie past the slice (a
// prefetch is a hint: it never faults and loads no register). Three, four
// and six channels ahead instead of two measured level within the noise
// (bnbench, AVX-512, three rounds of four binaries alternating,
// 2026-12-07: Backward of 8x512x7x7 3.23-3.99x copy() at two channels
// ahead, 3.82-3.98, 3.67-3.96 and 3.48-3.77 at three, four and six;
// 16x64x14x14 and 32x128x7x7 alike).
const prefetchLines = 4

// reduction emits StatsCF (backward false) or BackwardCF (backward true),
// or with chans their Chans forms: the same work for nch channels chStride
// values apart, each from zeroed float64 lanes reduced by the halving tree
// into out; with carry (chans too), the Carry forms: each channel's float32
// and float64 lanes come from memory (part, acc) and go back there, for a
// caller that gives the kernel a slab a block of runs at a time (runs of at
// most FlushCF values only).
//
// Lane l of the 32 float32 lanes is element l%W of vector l/W of each
// quantity (2 zmm or 4 ymm per quantity), so a 32-value block of a run
// feeds every lane once, in order. The float64 lanes stay in acc (memory)
// and are only touched by a flush, except in a Chans call whose channels
// flush once: there they never reach acc (see the short-run loop).
func reduction(isa ISA, backward, chans, carry bool, tab Mem) {
	var name, sig, scalar, what string
	var nq int
	if backward {
		name, scalar, nq, what = "backwardCF", "mean", 3, "BackwardCF"
		sig = "func(acc []float64, dy, x []float32, nruns, runLen, stride, group int, mean float32)"
		if chans {
			sig = "func(out, acc []float64, dy, x []float32, nch, chStride, nruns, runLen, stride, group int, mean []float32)"
		}
		if carry {
			sig = "func(out, acc []float64, part []float32, dy, x []float32, nch, chStride, nruns, runLen, stride, group, phase, end int, mean []float32)"
		}
	} else {
		name, scalar, nq, what = "statsCF", "pivot", 2, "StatsCF"
		sig = "func(acc []float64, x []float32, nruns, runLen, stride, group int, pivot float32)"
		if chans {
			sig = "func(out, acc []float64, x []float32, nch, chStride, nruns, runLen, stride, group int, pivot []float32)"
		}
		if carry {
			sig = "func(out, acc []float64, part []float32, x []float32, nch, chStride, nruns, runLen, stride, group, phase, end int, pivot []float32)"
		}
	}
	switch {
	case carry:
		name, what = name+"Carry", what+"Carry"
	case chans:
		name, what = name+"Chans", what+"Chans"
	}
	name += isa.Suffix

	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	switch {
	case carry:
		Doc(name+" is the "+isa.Suffix+" form of fallback."+what+", with the same bits.",
			fmt.Sprintf("It requires nch, nruns, runLen, group >= 1, runLen <= %d, 0 <= phase < group, len(acc), len(part) >= %d*nch and len(out) >= %d*nch.", FlushCF, nq*Lanes, nq))
	case chans:
		Doc(name+" is the "+isa.Suffix+" form of fallback."+what+", with the same bits.",
			fmt.Sprintf("It requires nch, nruns, runLen, group >= 1, len(acc) >= %d and len(out) >= %d*nch.", nq*Lanes, nq))
	default:
		Doc(name+" is the "+isa.Suffix+" form of fallback."+what+", with the same bits.",
			fmt.Sprintf("It requires nruns, runLen, group >= 1 and len(acc) >= %d.", nq*Lanes))
	}

	// Chans: the channel loop's state lives in the frame, so that the
	// per-channel body keeps every register it had.
	var chLeft, xCh, dyCh, outP, cvP, pfOff, accP, partP Mem
	if chans {
		chLeft, xCh, dyCh, outP, cvP, pfOff = AllocLocal(8), AllocLocal(8), AllocLocal(8), AllocLocal(8), AllocLocal(8), AllocLocal(8)
		t := GP64()
		Load(Param("chStride"), t)
		SHLQ(U8(3), t) // 2 channels ahead, in bytes
		MOVQ(t, pfOff)
		Load(Param("nch"), t)
		MOVQ(t, chLeft)
		Load(Param("x").Base(), t)
		MOVQ(t, xCh)
		if backward {
			Load(Param("dy").Base(), t)
			MOVQ(t, dyCh)
		}
		Load(Param("out").Base(), t)
		MOVQ(t, outP)
		if carry {
			// Carry: channel j's lanes at acc and part, advanced per channel.
			accP, partP = AllocLocal(8), AllocLocal(8)
			Load(Param("acc").Base(), t)
			MOVQ(t, accP)
			Load(Param("part").Base(), t)
			MOVQ(t, partP)
		}
		Load(Param(scalar).Base(), t)
		MOVQ(t, cvP)
		Label(lbl(name, "channel"))
	}

	var acc Mem
	if carry {
		acc = Mem{Base: GP64()}
		MOVQ(accP, acc.Base)
	} else {
		acc = Mem{Base: Load(Param("acc").Base(), GP64())}
	}
	// zeroAcc sets the channel's float64 lanes in acc to 0 (Chans): every
	// path that flushes into acc runs it first.
	zeroAcc := func() {
		if !chans || carry {
			return
		}
		Comment("The channel's float64 lanes start at 0.")
		z := isa.Vec()
		isa.zero(z)
		for i := 0; i < nq*Lanes*8/isa.Bytes(); i++ {
			VMOVUPS(z, acc.Offset(i*isa.Bytes()))
		}
	}
	var xBase, dyBase Register
	if chans {
		xBase = GP64()
		MOVQ(xCh, xBase)
	} else {
		xBase = Load(Param("x").Base(), GP64())
	}
	bases := []Register{xBase}
	if backward {
		if chans {
			dyBase = GP64()
			MOVQ(dyCh, dyBase)
		} else {
			dyBase = Load(Param("dy").Base(), GP64())
		}
		bases = append(bases, dyBase)
	}
	nruns := Load(Param("nruns"), GP64())
	stride := Load(Param("stride"), GP64())
	SHLQ(U8(2), stride)
	gcount := Load(Param("group"), GP64())
	if carry {
		SUBQ(paramAddr("phase"), gcount) // the runs left of the current flush group
	}

	sc := isa.Vec()
	if chans {
		t := GP64()
		MOVQ(cvP, t)
		VBROADCASTSS(Mem{Base: t}, sc)
	} else {
		VBROADCASTSS(paramAddr(scalar), sc)
	}

	nv := Lanes / isa.W
	accs := make([][]VecVirtual, nq)
	// partLane is the place in part of quantity q's vector v (Carry).
	partLane := func(base Register, q, v int) Mem { return Mem{Base: base, Disp: 4 * (q*Lanes + v*isa.W)} }
	var pb Register
	if carry {
		Comment("The channel's float32 lanes, from part.")
		pb = GP64()
		MOVQ(partP, pb)
	}
	for q := range accs {
		accs[q] = make([]VecVirtual, nv)
		for v := range accs[q] {
			accs[q][v] = isa.Vec()
			if carry {
				VMOVUPS(partLane(pb, q, v), accs[q][v])
			} else {
				isa.zero(accs[q][v])
			}
		}
	}

	ptrs := make([]Register, len(bases))
	for i := range ptrs {
		ptrs[i] = GP64()
	}
	px := Mem{Base: ptrs[0]}
	var pdy Mem
	if backward {
		pdy = Mem{Base: ptrs[1]}
	}
	rem, n, blocks := GP64(), GP64(), GP64()

	// body feeds one 32-lane block. masked: the first t lanes only (t in n,
	// 1..31), the rest add +0; with pre set, its masks are set up already.
	var pre *blockMaskRegs
	body := func(masked bool) {
		var ks []Register
		var negt GPVirtual
		var tb Mem
		switch {
		case masked && pre != nil:
			ks, negt, tb = pre.ks, pre.negt, pre.tb
		case masked:
			ks, negt, tb = isa.blockMasks(tab, n, nv)
		}
		for v := 0; v < nv; v++ {
			off := v * isa.Bytes()
			d := isa.Vec()
			var m VecVirtual // AVX2 mask
			switch {
			case !masked:
				// x - scalar as VFNMADD231PS of scalar*1.0 (exact, on the
				// multiply-add ports instead of the adders) measured 0-4%
				// faster in L1 (BenchmarkShortRunsHot, AVX-512, three
				// alternating pairs, 2026-12-07): not worth the register.
				VMOVUPS(px.Offset(off), d)
				VSUBPS(sc, d, d) // d = x - scalar
			case isa.Z:
				VMOVUPS_Z(px.Offset(off), ks[v], d)
				VSUBPS_Z(sc, d, ks[v], d)
			default:
				m = isa.Vec()
				VMOVDQU(tb.Idx(negt, 4).Offset(4*Lanes+off), m)
				VMASKMOVPS(px.Offset(off), m, d)
				VSUBPS(sc, d, d)
				VANDPS(m, d, d)
			}
			if !backward {
				s, q := accs[0][v], accs[1][v]
				VADDPS(d, s, s) // s = s + d
				VMULPS(d, d, d)
				VADDPS(d, q, q) // q = q + d*d
				continue
			}
			sdy, p, rs := accs[0][v], accs[1][v], accs[2][v]
			var g VecVirtual
			switch {
			case !masked:
				g = isa.Vec()
				VMOVUPS(pdy.Offset(off), g)
			case isa.Z:
				g = isa.Vec()
				VMOVUPS_Z(pdy.Offset(off), ks[v], g)
			default:
				g = m
				VMASKMOVPS(pdy.Offset(off), m, g)
			}
			backwardLanes(sdy, p, rs, d, g, masked)
		}
	}

	// flush adds the float32 lanes to acc as float64 and clears them.
	flush := func() { isa.flushLanes(accs, acc) }

	// runStart points ptrs at the run and prefetches (Chans) the start of
	// the run two channels ahead, if there is such a channel.
	runStart := func(pfx string) {
		for i := range ptrs {
			MOVQ(bases[i], ptrs[i])
		}
		if chans {
			Comment("Prefetch the start of this run two channels ahead, if there is such a channel.")
			CMPQ(chLeft, U8(2))
			JLE(LabelRef(lbl(name, pfx+"noprefetch")))
			MOVQ(pfOff, rem)
			for _, p := range ptrs {
				for l := 0; l < prefetchLines; l++ {
					PREFETCHT0(Mem{Base: p, Index: rem, Scale: 1, Disp: 64 * l})
				}
			}
			Label(lbl(name, pfx+"noprefetch"))
		}
	}
	// runEnd counts the run off: to last after the last run, else a flush
	// after every group runs; then, at next, it steps the bases to the
	// next run and loops to run.
	runEnd := func(next, run string) {
		DECQ(nruns)
		JZ(LabelRef(lbl(name, "last")))
		DECQ(gcount)
		JNZ(LabelRef(lbl(name, next)))
		Comment("(r+1) % group == 0")
		MOVQ(paramAddr("group"), gcount)
		flush()
		Label(lbl(name, next))
		for _, b := range bases {
			ADDQ(stride, b)
		}
		JMP(LabelRef(lbl(name, run)))
	}

	// Runs of at most FlushCF values are one segment each, with the same
	// block count and tail: their loop sets up the tail's masks once, not
	// per run, and skips the segment bookkeeping. On runs of 49 values
	// (8x512x7x7) StatsCFChans (AVX-512) runs 42 instructions per run
	// instead of 52, and bnbench's stats of 8x512x7x7 went from 1.49-1.50x
	// copy to 1.32-1.35 (AVX2 stayed at 1.8).
	if !carry {
		CMPQ(paramAddr("runLen"), U32(FlushCF))
		JGT(LabelRef(lbl(name, "long")))
	}
	nb := GP64()
	MOVQ(paramAddr("runLen"), nb)
	MOVQ(nb, n)
	SHRQ(U8(5), nb)
	ANDQ(U8(Lanes-1), n)
	pre = &blockMaskRegs{}
	pre.ks, pre.negt, pre.tb = isa.blockMasks(tab, n, nv)
	// outTree stores the halving tree of each quantity's float64 lanes
	// (lanes(q) returns it) into the channel's out, and moves on to the
	// next channel.
	outTree := func(lanes func(q int) VecVirtual) {
		Comment("out[nq*j+q] = the halving tree of quantity q's float64 lanes.")
		o := GP64()
		MOVQ(outP, o)
		for q := 0; q < nq; q++ {
			VMOVSD(lanes(q), Mem{Base: o, Disp: 8 * q})
		}
		JMP(LabelRef(lbl(name, "nextchannel")))
	}
	// shortRun emits, at label <p>run, one run of the short-run loop:
	// its whole blocks and its tail.
	shortRun := func(p string) {
		Label(lbl(name, p+"run"))
		runStart(p)
		MOVQ(nb, blocks)
		TESTQ(blocks, blocks)
		JZ(LabelRef(lbl(name, p+"tail")))
		blockLoop(lbl(name, p+"block"), blocks, ptrs, body)
		Label(lbl(name, p+"tail"))
		TESTQ(n, n)
		JZ(LabelRef(lbl(name, p+"runend")))
		tailBlock(body)
		Label(lbl(name, p+"runend"))
	}
	if chans && !carry {
		// One flush per channel (nruns <= group), the usual case of short
		// runs in small batches (8x512x7x7): acc64 = 0 + float64(acc32)
		// is float64(acc32) itself (a lane sum is never -0, and a NaN
		// keeps its payload), so the lanes go from the registers straight
		// into the halving tree, and acc is not touched. It saves each
		// channel the stores, reloads and store-to-load latency of acc:
		// AVX-512 on 8x512x7x7 in a steady loop (a temporary benchmark,
		// three runs), StatsCFChans 3.4-4.6 -> 2.7-2.9 ns per run and
		// BackwardCFChans 5.8-6.2 -> 5.0-5.3.
		//
		// Two channels at a time (AVX-512, channels j and j+1 in one run
		// loop, each with its own lanes: the same bits, half the loop's
		// pointer steps, prefetches and branches, and two lane chains in
		// flight) measured level on the Intel Xeon VM (2026-12-07, a
		// temporary benchmark of StatsCFChans on 8 channels of 8 samples
		// in L1, two runs each): 4.4-4.5 ns per run of 49 values either
		// way, 4.0-4.4 on runs of 64, 2.9-3.0 on runs of 16, contiguous
		// runs or C*S apart alike. The loop is bound by the floating-point
		// work: the statistics take four operations per vector (x - p,
		// S += d, d*d, Q += d*d; a fused multiply-add would round
		// differently), which this core ran at 1.0-1.1 ns per zmm (about
		// 3 cycles: a chain of dependent LEAs ran at 2.9 GHz) and
		// 0.69-0.78 ns per ymm (asm's BenchmarkRunsInL1 has them per
		// kernel). Not kept.
		CMPQ(nruns, gcount)
		JGT(LabelRef(lbl(name, "sflush")))
		shortRun("o")
		DECQ(nruns)
		JZ(LabelRef(lbl(name, "olast")))
		for _, b := range bases {
			ADDQ(stride, b)
		}
		JMP(LabelRef(lbl(name, "orun")))
		Label(lbl(name, "olast"))
		outTree(func(q int) VecVirtual { return isa.regTree(accs[q]) })
		Label(lbl(name, "sflush"))
	}
	zeroAcc()
	shortRun("s")
	runEnd("snext", "srun")
	pre = nil
	if carry {
		carryEnd(isa, name, nq, gcount, acc, accs, flush, partLane, accP, partP, outP, cvP, xCh, dyCh, chLeft, backward)
		return
	}

	Label(lbl(name, "long"))
	zeroAcc()
	Label(lbl(name, "run"))
	runStart("")
	MOVQ(paramAddr("runLen"), rem)

	segment(name, rem, n, blocks, ptrs, body)
	TESTQ(rem, rem)
	JZ(LabelRef(lbl(name, "runend")))
	Comment("The segment does not end its run.")
	flush()
	JMP(LabelRef(lbl(name, "segment")))

	Label(lbl(name, "runend"))
	runEnd("next", "run")

	Label(lbl(name, "last"))
	flush()
	if chans {
		outTree(func(q int) VecVirtual { return isa.laneTree(acc.Offset(8 * q * Lanes)) })
		Label(lbl(name, "nextchannel"))
		nextChannel(name, nq, outP, cvP, xCh, dyCh, chLeft, backward, nil)
	}
	VZEROUPPER()
	RET()
}

// nextChannel steps a multi-channel kernel's frame state to its next
// channel (out, the pivot or mean, x and dy; more, when not nil, steps the
// rest) and loops to the label channel while channels are left.
func nextChannel(name string, nq int, outP, cvP, xCh, dyCh, chLeft Mem, backward bool, more func()) {
	ADDQ(U8(8*nq), outP)
	if more != nil {
		more()
	}
	ADDQ(U8(4), cvP)
	cs := Load(Param("chStride"), GP64())
	SHLQ(U8(2), cs)
	ADDQ(cs, xCh)
	if backward {
		ADDQ(cs, dyCh)
	}
	DECQ(chLeft)
	JNZ(LabelRef(lbl(name, "channel")))
}

// carryEnd emits the end of a Carry kernel's channel, at the label last
// that its last run jumps to. A call that ends the slab (end != 0) flushes
// and stores the halving tree of each quantity's float64 lanes into out;
// another flushes if its last run ends a flush group (gcount is 1). Both
// put the float32 lanes back into part (zeros after a flush), and step to
// the next channel.
func carryEnd(isa ISA, name string, nq int, gcount Register, acc Mem, accs [][]VecVirtual, flush func(),
	partLane func(base Register, q, v int) Mem, accP, partP, outP, cvP, xCh, dyCh, chLeft Mem, backward bool) {
	Label(lbl(name, "last"))
	CMPQ(paramAddr("end"), U8(0))
	JNE(LabelRef(lbl(name, "final")))
	CMPQ(gcount, U8(1))
	JNE(LabelRef(lbl(name, "keep")))
	flush()
	JMP(LabelRef(lbl(name, "keep")))

	Label(lbl(name, "final"))
	flush()
	Comment("out[nq*j+q] = the halving tree of quantity q's float64 lanes.")
	for q := 0; q < nq; q++ {
		o := GP64()
		MOVQ(outP, o)
		VMOVSD(isa.laneTree(acc.Offset(8*q*Lanes)), Mem{Base: o, Disp: 8 * q})
	}

	Label(lbl(name, "keep"))
	Comment("The channel's float32 lanes, back to part.")
	pb := GP64()
	MOVQ(partP, pb)
	for q := range accs {
		for v, a := range accs[q] {
			VMOVUPS(a, partLane(pb, q, v))
		}
	}
	nextChannel(name, nq, outP, cvP, xCh, dyCh, chLeft, backward, func() {
		ADDQ(U32(8*nq*Lanes), accP)
		ADDQ(U32(4*nq*Lanes), partP)
	})
	VZEROUPPER()
	RET()
}

// laneTree reduces the 32 float64 lanes at a by halving (lane l += lane
// l+w for w = 16, 8, 4, 2, 1) and returns an xmm whose low lane holds the
// result.
func (isa ISA) laneTree(a Mem) VecVirtual {
	if isa.Z {
		z := make([]VecVirtual, 4)
		for i := range z {
			z[i] = ZMM()
			VMOVUPD(a.Offset(64*i), z[i])
		}
		return zmmTree(z)
	}
	y := make([]VecVirtual, 8)
	for i := range y {
		y[i] = YMM()
		VMOVUPD(a.Offset(32*i), y[i])
	}
	for i := 0; i < 4; i++ {
		VADDPD(y[i+4], y[i], y[i]) // lanes 4i..4i+3 += 16+4i..
	}
	return ymmQuarterTree(y[:4])
}

// regTree is laneTree of the float64 lanes float64(acc32[l]) of one
// quantity's float32 lanes (AVX-512: lane l is element l%16 of accs[l/16]),
// converted in registers rather than flushed into memory first.
func (isa ISA) regTree(accs []VecVirtual) VecVirtual {
	if isa.Z {
		z := make([]VecVirtual, 4) // float64 lanes 8i..8i+7
		for v, a := range accs {
			z[2*v] = ZMM()
			VCVTPS2PD(a.AsY(), z[2*v])
			h := YMM()
			VEXTRACTF64X4(U8(1), a, h)
			z[2*v+1] = ZMM()
			VCVTPS2PD(h, z[2*v+1])
		}
		return zmmTree(z)
	}
	// AVX2: lanes 4i..4i+3 are half i%2 of accs[i/2]; each y[i] (i < 4)
	// is converted and added to its partner i+4 at once, which keeps
	// the register count within 16 beside Backward's other quantities.
	half := func(i int) VecVirtual {
		a, d := accs[i/2], YMM()
		if i%2 == 0 {
			VCVTPS2PD(a.AsX(), d)
			return d
		}
		h := XMM()
		VEXTRACTF128(U8(1), a, h)
		VCVTPS2PD(h, d)
		return d
	}
	y := make([]VecVirtual, 4)
	for i := range y {
		y[i] = half(i)
		VADDPD(half(i+4), y[i], y[i]) // lanes 4i..4i+3 += 16+4i..
	}
	return ymmQuarterTree(y)
}

// ymmQuarterTree is the halving tree from its second step on, AVX2: y[i]
// holds lanes 4i..4i+3 after the first step (lane l += lane l+16).
func ymmQuarterTree(y []VecVirtual) VecVirtual {
	VADDPD(y[2], y[0], y[0]) // lanes 0..3 += 8..11
	VADDPD(y[3], y[1], y[1]) // lanes 4..7 += 12..15
	VADDPD(y[1], y[0], y[0]) // lanes 0..3 += 4..7
	return ymmTree(y[0])
}

// zmmTree is the halving tree of the 32 float64 lanes in z (lanes 8i..8i+7
// in z[i]).
func zmmTree(z []VecVirtual) VecVirtual {
	VADDPD(z[2], z[0], z[0]) // lanes 0..7 += 16..23
	VADDPD(z[3], z[1], z[1]) // lanes 8..15 += 24..31
	VADDPD(z[1], z[0], z[0]) // lanes 0..7 += 8..15
	e := YMM()
	VEXTRACTF64X4(U8(1), z[0], e)
	VADDPD(e, z[0].AsY(), e) // lanes 0..3 += 4..7
	return ymmTree(e)
}

// ymmTree finishes the halving tree on lanes 0..3 in e and returns an xmm
// whose low lane holds the result.
func ymmTree(e VecVirtual) VecVirtual {
	f := XMM()
	VEXTRACTF128(U8(1), e, f)
	VADDPD(f, e.AsX(), f) // lanes 0, 1 += 2, 3
	g := XMM()
	VPERMILPD(U8(1), f, g)
	VADDSD(g, f, f) // lane 0 += 1
	return f
}

// backwardLanes adds one vector of the backward sums to its lanes: with
// d = x - mean and g = dy, Sdy += g, R += d and P += g*d (the product
// rounded first; g is overwritten). The first source of each commutative
// operation is the one the Go compiler picks for fallback.BackwardCF,
// which differs between its main loop and its tail loop (masked); it only
// shows when both operands are NaNs with different payloads.
func backwardLanes(sdy, p, rs, d, g VecVirtual, masked bool) {
	VADDPS(g, sdy, sdy) // sdy = sdy + g
	if masked {
		VADDPS(rs, d, rs) // rs = d + rs
		VMULPS(d, g, g)   // g*d
	} else {
		VADDPS(d, rs, rs) // rs = rs + d
		VMULPS(g, d, g)   // d*g
	}
	VADDPS(g, p, p) // p = p + g*d
}

// flushLanes adds the float32 lanes accs[q][v] (lane l of quantity q is
// element l%W of accs[q][l/W]) to the float64 lanes at acc (quantity q's at
// acc + 8*q*Lanes), and clears them.
func (isa ISA) flushLanes(accs [][]VecVirtual, acc Mem) {
	Comment("Flush: acc64[l] += float64(acc32[l]); acc32[l] = 0.")
	for q := range accs {
		for v := range accs[q] {
			isa.flushLane(accs[q][v], acc.Offset(8*(q*Lanes+v*isa.W)))
		}
	}
}

// flushLane adds the float32 lanes of a to the float64 lanes at lo and
// sets a to 0.
func (isa ISA) flushLane(a VecVirtual, lo Mem) {
	hi := lo.Offset(8 * isa.W / 2)
	c := isa.Vec()
	if isa.Z {
		VCVTPS2PD(a.AsY(), c)
	} else {
		VCVTPS2PD(a.AsX(), c)
	}
	VADDPD(lo, c, c) // float64(acc32) + acc64, as fallback
	VMOVUPD(c, lo)
	if isa.Z {
		h := YMM()
		VEXTRACTF64X4(U8(1), a, h)
		VCVTPS2PD(h, c)
	} else {
		h := XMM()
		VEXTRACTF128(U8(1), a, h)
		VCVTPS2PD(h, c)
	}
	VADDPD(hi, c, c)
	VMOVUPD(c, hi)
	isa.zero(a)
}

// blockMaskRegs holds the masks blockMasks set up.
type blockMaskRegs struct {
	ks   []Register
	negt GPVirtual
	tb   Mem
}

// blockMasks sets up the masks of a 32-lane block whose first n lanes (1 to
// 31) hold values, from the file's mask table tab: one k register per
// vector (AVX-512), or -n and the table's address, from which the body
// loads each vector's VMASKMOVPS mask at tb.Idx(negt, 4).Offset(4*Lanes +
// the vector's byte offset) (AVX2).
func (isa ISA) blockMasks(tab Mem, n Register, nv int) (ks []Register, negt GPVirtual, tb Mem) {
	tb = Mem{Base: GP64()}
	LEAQ(tab, tb.Base)
	if isa.Z {
		for v := 0; v < nv; v++ {
			k := K()
			KMOVW(tb.Idx(n, 4).Offset(2*v), k)
			ks = append(ks, k)
		}
		return ks, nil, tb
	}
	negt = GP64()
	MOVQ(n, negt)
	NEGQ(negt)
	return nil, negt, tb
}

// segment emits one flush segment of a run: n = min(rem, FlushCF) values
// (rem -= n), in 32-lane blocks, each body(false) followed by a step of
// every pointer, then body(true) on the last n % 32 values. It ends at
// the label name_segend, where the caller flushes and loops.
func segment(name string, rem, n, blocks Register, ptrs []Register, body func(masked bool)) {
	Label(lbl(name, "segment"))
	Comment("n = min(rem, FlushCF); rem -= n")
	MOVQ(rem, n)
	CMPQ(n, U32(FlushCF))
	JLE(LabelRef(lbl(name, "short")))
	MOVQ(U32(FlushCF), n)
	Label(lbl(name, "short"))
	SUBQ(n, rem)
	MOVQ(n, blocks)
	SHRQ(U8(5), blocks)
	JZ(LabelRef(lbl(name, "tail")))

	blockLoop(lbl(name, "block"), blocks, ptrs, body)

	Label(lbl(name, "tail"))
	ANDQ(U8(Lanes-1), n)
	JZ(LabelRef(lbl(name, "segend")))
	tailBlock(body)

	Label(lbl(name, "segend"))
}

// blockLoop emits, at label, the loop over whole 32-lane blocks: body(false)
// and a step of every pointer, blocks (at least 1) times.
func blockLoop(label string, blocks Register, ptrs []Register, body func(masked bool)) {
	Label(label)
	body(false)
	for _, p := range ptrs {
		ADDQ(U8(4*Lanes), p)
	}
	DECQ(blocks)
	JNZ(LabelRef(label))
}

// tailBlock emits the masked last block of a run.
func tailBlock(body func(masked bool)) {
	Comment("Tail of the run: the first n lanes.")
	body(true)
}
