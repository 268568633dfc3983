package cf

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// BackwardSumsApplyCF generates backwardSumsApplyCF<ISA>, the form of
// fallback.BackwardSumsApplyCF: Backward's sums of one run and dx of
// another, in one loop, with ordinary stores. It is for the pipelined
// channels-first Backward whose dx goes through the cache (under 8 MB):
// there a channel's apply reads x and dy back from L1 and L2 and writes dx
// while the sums stream the next channel from further out, and in one loop
// the loads of both streams are in flight together. A plain-C model of the
// two schedules with this kernel's arithmetic (AVX-512, 8x256x28x28
// channels first, one channel at a time, in a scratch cgo program; not in
// the repository) took 1.81x copy() one loop after the other and 1.66 in
// one loop; the library's Backward went from 1.84-1.93 to 1.72-1.80
// (bnbench, AVX-512, three alternating pairs of binaries).
//
// Both runs have len(x) values, so one 32-value block walks both: the sums
// keep fallback's lanes (a value's lane is its position in the run, mod
// 32) and flush points (every FlushCF values and at the end), and the
// last len(x) % 32 values of both streams go through one masked block.
// The operations, and the first source of each commutative one, are those
// of the kernels of BackwardCF (reduction) and BackwardApplyCF
// (elementwise), so that NaN payloads match too.
//
// AVX2 has 16 vector registers and the sums' lanes take 12 of them, so
// the five parameters stay in memory, broadcast into a frame slot of 32
// bytes each, and the apply takes them as memory operands.
func BackwardSumsApplyCF(isa ISA) {
	name := "backwardSumsApplyCF" + isa.Suffix
	tab := maskTable(isa, "backwardSumsApplyCF")
	TEXT(name, NOSPLIT, "func(acc []float64, dy, x []float32, mean float32, dx, dya, xa []float32, p []float32)")
	Pragma("noescape")
	Doc(name+" is the "+isa.Suffix+" form of fallback.BackwardSumsApplyCF, with the same bits.",
		"dx must not overlap dy or x; it may be the very same slice as dya or xa.")

	acc := Mem{Base: Load(Param("acc").Base(), GP64())}
	ptrs := []Register{
		Load(Param("x").Base(), GP64()),
		Load(Param("dy").Base(), GP64()),
		Load(Param("xa").Base(), GP64()),
		Load(Param("dya").Base(), GP64()),
		Load(Param("dx").Base(), GP64()),
	}
	px, pdy, pxa, pdya, pdx := Mem{Base: ptrs[0]}, Mem{Base: ptrs[1]}, Mem{Base: ptrs[2]}, Mem{Base: ptrs[3]}, Mem{Base: ptrs[4]}
	rem := Load(Param("x").Len(), GP64())
	TESTQ(rem, rem)
	JZ(LabelRef(lbl(name, "done")))

	sc := isa.Vec()
	VBROADCASTSS(paramAddr("mean"), sc)
	// par returns parameter i (hi, lo, k2, k3, k1) as an operand: a
	// register on AVX-512, its broadcast frame slot on AVX2.
	pp := Load(Param("p").Base(), GP64())
	var par func(i int) Op
	if isa.Z {
		regs := make([]VecVirtual, 5)
		for i := range regs {
			regs[i] = isa.Vec()
			VBROADCASTSS(Mem{Base: pp, Disp: 4 * i}, regs[i])
		}
		par = func(i int) Op { return regs[i] }
	} else {
		slots := AllocLocal(5 * 32)
		t := isa.Vec()
		for i := range 5 {
			VBROADCASTSS(Mem{Base: pp, Disp: 4 * i}, t)
			VMOVUPS(t, slots.Offset(32*i))
		}
		par = func(i int) Op { return slots.Offset(32 * i) }
	}

	nv := Lanes / isa.W
	accs := make([][]VecVirtual, 3) // Sdy, P, R
	for q := range accs {
		accs[q] = make([]VecVirtual, nv)
		for v := range accs[q] {
			accs[q][v] = isa.Vec()
			isa.zero(accs[q][v])
		}
	}

	n, blocks := GP64(), GP64()
	// body runs one 32-value block of both streams; masked: the first n
	// values (n in 1..31) only.
	body := func(masked bool) {
		var ks []Register
		var negt GPVirtual
		var tb Mem
		if masked {
			ks, negt, tb = isa.blockMasks(tab, n, nv)
		}
		for v := 0; v < nv; v++ {
			off := v * isa.Bytes()
			// The AVX2 mask of vector v, loaded afresh where needed (a
			// masked load below may reuse its register).
			mask := func() VecVirtual {
				m := isa.Vec()
				VMOVDQU(tb.Idx(negt, 4).Offset(4*Lanes+off), m)
				return m
			}
			load := func(b Mem, r VecVirtual, m VecVirtual) {
				switch {
				case !masked:
					VMOVUPS(b.Offset(off), r)
				case isa.Z:
					VMOVUPS_Z(b.Offset(off), ks[v], r)
				default:
					VMASKMOVPS(b.Offset(off), m, r)
				}
			}

			// The sums, as reduction's backward body.
			d, g := isa.Vec(), isa.Vec()
			var m VecVirtual
			if masked && !isa.Z {
				m = mask()
			}
			load(px, d, m)
			switch {
			case masked && isa.Z:
				VSUBPS_Z(sc, d, ks[v], d)
			case masked:
				VSUBPS(sc, d, d)
				VANDPS(m, d, d)
			default:
				VSUBPS(sc, d, d) // d = x - mean
			}
			load(pdy, g, m)
			backwardLanes(accs[0][v], accs[1][v], accs[2][v], d, g, masked)

			// dx, as elementwise's backward vector.
			t, r := isa.Vec(), isa.Vec()
			load(pxa, t, m)
			VSUBPS(par(0), t, t) // t = x - hi
			VSUBPS(par(1), t, t) // t -= lo
			VMULPS(par(3), t, t) // t = t*k3
			load(pdya, r, m)
			VMULPS(par(4), r, r) // u = dy*k1
			VSUBPS(par(2), r, r) // u -= k2
			VSUBPS(t, r, r)      // u -= t
			switch {
			case !masked:
				VMOVUPS(r, pdx.Offset(off))
			case isa.Z:
				VMOVUPS(r, ks[v], pdx.Offset(off))
			default:
				VMASKMOVPS(r, m, pdx.Offset(off))
			}
		}
	}

	// Each whole block also prefetches the sums' x and dy sumsAhead bytes
	// on (see sumsAhead).
	prefetched := func(masked bool) {
		if !masked {
			for _, b := range []Mem{px, pdy} {
				PREFETCHT0(b.Offset(sumsAhead))
				PREFETCHT0(b.Offset(sumsAhead + 64))
			}
		}
		body(masked)
	}
	segment(name, rem, n, blocks, ptrs, prefetched)
	isa.flushLanes(accs, acc)
	TESTQ(rem, rem)
	JNZ(LabelRef(lbl(name, "segment")))

	Label(lbl(name, "done"))
	VZEROUPPER()
	RET()
}

// sumsAhead is how far ahead of its loads, in bytes, BackwardSumsApplyCF
// prefetches the runs it sums. A run of 28x28 is 3136 bytes: its stream
// crosses a 4 KB page, where the hardware prefetchers stop, about once a
// run, and the next channel's run follows it in memory. From 1024 bytes
// ahead, a run's last blocks prefetch the start of the next one (a
// prefetch never faults). Temporary test in package reduce, 8x256x28x28
// channels first, ten alternating runs of two test binaries (2026-12-07,
// AVX-512): Backward took 1.61-1.76x copy() with it (median 1.70), 1.67-1.85
// without (1.77); at 2048 bytes, 1.69-1.85 over three runs.
const sumsAhead = 1024
