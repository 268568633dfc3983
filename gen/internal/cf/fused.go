package cf

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// StatsApplyCF generates statsApplyCFNT<ISA> and statsApplyCF<ISA>, the
// forms of fallback.StatsApplyCF (non-temporal and ordinary stores): the
// statistics of one run and the normalization of another, in one loop. A
// core that streams a tensor from memory through one kernel call and then
// writes another through the next keeps only one direction busy at a time;
// with the loads of one and the non-temporal stores of the other in the
// same loop, both go at once. Measured with a scratch kernel of the same
// shape (25.7 MB read from memory, 25.7 MB written non-temporally from a 4
// MB source in the last-level cache): 1.67 ms fused, against 2.21 ms for
// the two loops one after the other and 1.45 ms for copy().
//
// y may start anywhere: the normalization first stores its head, the h
// values up to y's next cache-line boundary, the ordinary way, and then
// runs h values ahead of the statistics, so that its full vectors are
// aligned for VMOVNTPS and no line is written both ways (on AVX2, a head
// to the next 32-byte boundary left half lines to the non-temporal stores,
// and made the fused Train of 32x64x55x55 slower than the unfused one).
// Block b of the loop sums x[32b:32b+32] and normalizes
// xa[h+32b:h+32b+32]; what is left of each stream after the last block
// they share (at most one block and a tail of the statistics, a tail of
// the normalization) runs alone. The statistics keep fallback's lanes (a
// value's lane is its position in x, mod 32) and flush points (every
// FlushCF values and at the end).
func StatsApplyCF(isa ISA) {
	statsApplyCF(isa, true)
	statsApplyCF(isa, false)
}

// statsApplyCF emits statsApplyCFNT<ISA> (nt) or statsApplyCF<ISA>, the
// same with ordinary stores, for Train's pipeline whose output goes
// through the cache. The ordinary stores need no aligned start; the
// second form keeps the head's walk all the same, so that one body emits
// both.
func statsApplyCF(isa ISA, nt bool) {
	prefix := "statsApplyCF"
	doc := "It stores with ordinary stores."
	if nt {
		prefix += "NT"
		doc = "It stores y's full vectors non-temporally, from its first 64-byte boundary on."
	}
	name := prefix + isa.Suffix
	tab := maskTable(isa, prefix)
	TEXT(name, NOSPLIT, "func(acc []float64, x []float32, pivot float32, y, xa []float32, p []float32)")
	Pragma("noescape")
	Doc(name+" is the "+isa.Suffix+" form of fallback.StatsApplyCF, with the same bits.", doc)

	acc := Mem{Base: Load(Param("acc").Base(), GP64())}
	px := Mem{Base: Load(Param("x").Base(), GP64())}
	py := Mem{Base: Load(Param("y").Base(), GP64())}
	pa := Mem{Base: Load(Param("xa").Base(), GP64())}
	pp := Load(Param("p").Base(), GP64())
	size := Load(Param("x").Len(), GP64())
	TESTQ(size, size)
	JZ(LabelRef(lbl(name, "done")))

	sc, par := pivotAndParams(isa, pp)
	nv := Lanes / isa.W
	accs := make([][]VecVirtual, 2)
	for q := range accs {
		accs[q] = make([]VecVirtual, nv)
		for v := range accs[q] {
			accs[q][v] = isa.Vec()
			isa.zero(accs[q][v])
		}
	}

	// masks sets up the masks of a block's first n lanes (1..31).
	type masks struct {
		ks   []Register
		negt GPVirtual
		tb   Mem
	}
	setMasks := func(n Register) masks {
		var m masks
		m.ks, m.negt, m.tb = isa.blockMasks(tab, n, nv)
		return m
	}
	// load loads vector v of a block at b into a new register: all of it,
	// or (with mk) the masked lanes, the others 0. On AVX2 it also returns
	// the lane mask.
	load := func(b Mem, v int, mk *masks) (r, m VecVirtual) {
		off := v * isa.Bytes()
		r = isa.Vec()
		switch {
		case mk == nil:
			VMOVUPS(b.Offset(off), r)
		case isa.Z:
			VMOVUPS_Z(b.Offset(off), mk.ks[v], r)
		default:
			m = isa.Vec()
			VMOVDQU(mk.tb.Idx(mk.negt, 4).Offset(4*Lanes+off), m)
			VMASKMOVPS(b.Offset(off), m, r)
		}
		return r, m
	}
	// stats adds vector v of the block at px to the lanes (masked: mk's
	// lanes only; the others add +0, as in fallback's tail).
	stats := func(v int, mk *masks) {
		d, m := load(px, v, mk)
		switch {
		case mk == nil:
			VSUBPS(sc, d, d) // d = x - pivot
		case isa.Z:
			VSUBPS_Z(sc, d, mk.ks[v], d)
		default:
			VSUBPS(sc, d, d)
			VANDPS(m, d, d)
		}
		s, q := accs[0][v], accs[1][v]
		VADDPS(d, s, s) // s = s + d
		VMULPS(d, d, d)
		VADDPS(d, q, q) // q = q + d*d
	}
	// apply normalizes vector v of the block at pa into py: non-temporally
	// when whole, else mk's lanes with an ordinary masked store.
	apply := func(v int, mk *masks) {
		off := v * isa.Bytes()
		t, m := load(pa, v, mk)
		VSUBPS(par[0], t, t) // t = xa - hi
		VSUBPS(par[1], t, t) // t -= lo
		VMULPS(par[2], t, t) // t*a
		VADDPS(par[3], t, t) // + b
		switch {
		case mk == nil && nt:
			VMOVNTPS(t, py.Offset(off))
		case mk == nil:
			VMOVUPS(t, py.Offset(off))
		case isa.Z:
			VMOVUPS(t, mk.ks[v], py.Offset(off))
		default:
			VMASKMOVPS(t, m, py.Offset(off))
		}
	}
	// masked runs part on every vector of a block of n's first lanes (n
	// 1..31), or jumps to skip when n is 0.
	masked := func(n Register, skip string, part func(v int, mk *masks)) {
		TESTQ(n, n)
		JZ(LabelRef(lbl(name, skip)))
		mk := setMasks(n)
		for v := 0; v < nv; v++ {
			part(v, &mk)
		}
	}
	step := func(ps ...Mem) {
		for _, p := range ps {
			ADDQ(U8(4*Lanes), p.Base)
		}
	}
	seg := GP64() // blocks of the statistics left before the next flush
	MOVQ(U32(FlushCF/Lanes), seg)
	// segBlock counts a block of the statistics off and flushes after every
	// FlushCF values.
	segBlock := func(l string) {
		DECQ(seg)
		JNZ(LabelRef(lbl(name, l)))
		isa.flushLanes(accs, acc)
		MOVQ(U32(FlushCF/Lanes), seg)
		Label(lbl(name, l))
	}

	Comment("Head: h = min(len(x), values up to y's next 64-byte boundary), normalized alone.")
	h := GP64()
	MOVQ(py.Base, h)
	NEGQ(h)
	ANDQ(U8(lineBytes-1), h)
	SHRQ(U8(2), h)
	CMPQ(h, size)
	JLE(LabelRef(lbl(name, "headlen")))
	MOVQ(size, h)
	Label(lbl(name, "headlen"))
	masked(h, "nohead", apply)
	LEAQ(Mem{Base: pa.Base, Index: h, Scale: 4}, pa.Base)
	LEAQ(Mem{Base: py.Base, Index: h, Scale: 4}, py.Base)
	Label(lbl(name, "nohead"))

	Comment("Blocks of both streams: as many as the normalization has whole.")
	rest := GP64() // values of the normalization after the head
	MOVQ(size, rest)
	SUBQ(h, rest)
	blocks := GP64()
	MOVQ(rest, blocks)
	SHRQ(U8(5), blocks)
	JZ(LabelRef(lbl(name, "statsrest")))
	Label(lbl(name, "block"))
	for v := 0; v < nv; v++ {
		stats(v, nil)
		apply(v, nil)
	}
	step(px, pa, py)
	segBlock("noflush")
	DECQ(blocks)
	JNZ(LabelRef(lbl(name, "block")))

	Comment("What is left of the statistics: s = len(x) - 32*(blocks done), at most a block and a tail.")
	Label(lbl(name, "statsrest"))
	n := GP64()
	MOVQ(rest, n)
	SHRQ(U8(5), n)
	SHLQ(U8(5), n) // 32*(blocks done)
	NEGQ(n)
	ADDQ(size, n)
	CMPQ(n, U8(Lanes))
	JB(LabelRef(lbl(name, "statstail")))
	for v := 0; v < nv; v++ {
		stats(v, nil)
	}
	step(px)
	segBlock("noflush2")
	SUBQ(U8(Lanes), n)
	Label(lbl(name, "statstail"))
	masked(n, "applyrest", stats)

	Comment("What is left of the normalization: its last (len(x) - h) % 32 values.")
	Label(lbl(name, "applyrest"))
	ANDQ(U8(Lanes-1), rest)
	masked(rest, "last", apply)

	Comment("The last flush, unless len(x) is a multiple of FlushCF and the blocks made it.")
	Label(lbl(name, "last"))
	TESTQ(U32(FlushCF-1), size)
	JZ(LabelRef(lbl(name, "done")))
	isa.flushLanes(accs, acc)

	Label(lbl(name, "done"))
	if nt {
		SFENCE()
	}
	VZEROUPPER()
	RET()
}

// lineBytes is the cache line: the non-temporal stores start on one.
const lineBytes = 64

// StatsApplyCFPair generates statsApplyCFNTPair<ISA>, the form of
// fallback.StatsApplyCFPair: StatsApplyCF on two stretches of memory pair
// values apart (in Train, sample r and sample r+pair/(C*S) of the same
// channels), walked vector by vector in one loop. One core on this
// machine moves more bytes with two streams in each direction than with
// one: a scratch model of Train's pipelined groups (32x64x56x56 from
// memory, ten channels a group) took 1.31-1.42x copy() with one stream and
// 1.23-1.30 with the samples paired.
//
// It takes whole vectors only: n and pair multiples of 16 values and y on
// a 64-byte boundary, so it has no head and no masks; a run's last 16
// values, when n is not a multiple of 32, go to lanes 0-15 as in fallback.
// Each stream has its own lanes and flushes (every FlushCF values and at
// the end); AVX2 has too few vector registers for both streams' lanes and
// keeps the second stream's float32 lanes on the stack.
func StatsApplyCFPair(isa ISA) {
	name := "statsApplyCFNTPair" + isa.Suffix
	TEXT(name, NOSPLIT, "func(acc []float64, x []float32, n, pair int, pivot float32, y, xa []float32, p []float32)")
	Pragma("noescape")
	Doc(name+" is the "+isa.Suffix+" form of fallback.StatsApplyCFPair, with the same bits, storing non-temporally.",
		"It requires n and pair to be multiples of 16 and y to start on a 64-byte boundary.")
	lanes := newPairLanes(isa, 2)
	acc := Mem{Base: Load(Param("acc").Base(), GP64())}
	px := Mem{Base: Load(Param("x").Base(), GP64())}
	py := Mem{Base: Load(Param("y").Base(), GP64())}
	pa := Mem{Base: Load(Param("xa").Base(), GP64())}
	second := pairOffset()
	size := Load(Param("n"), GP64())
	TESTQ(size, size)
	JLE(LabelRef(lbl(name, "done")))
	pp := Load(Param("p").Base(), GP64())
	sc, par := pivotAndParams(isa, pp)
	lanes.zero()

	// stats adds vector v of stream k's block at b to its lanes.
	stats := func(k int, b Mem, v int) {
		t := isa.Vec()
		VMOVUPS(b.Offset(v*isa.Bytes()), t)
		VSUBPS(sc, t, t) // t = x - pivot
		lanes.add(k, 0, v, t)
		VMULPS(t, t, t)
		lanes.add(k, 1, v, t) // q + t*t
	}
	// apply normalizes vector v of the block at a into o.
	apply := func(a, o Mem, v int) {
		off := v * isa.Bytes()
		t := isa.Vec()
		VMOVUPS(a.Offset(off), t)
		VSUBPS(par[0], t, t) // t = xa - hi
		VSUBPS(par[1], t, t) // t -= lo
		VMULPS(par[2], t, t) // t*a
		VADDPS(par[3], t, t) // + b
		VMOVNTPS(t, o.Offset(off))
	}
	// Each stream's 64-byte line of y is stored whole before the other
	// stream's (AVX2: two stores a line in a row; see pairedNT's line).
	perLine := 64 / isa.Bytes()
	pairBlocks(isa, name, size, []Mem{px, pa, py}, func(nvec int) {
		for v0 := 0; v0 < nvec; v0 += perLine {
			vs := v0 + min(perLine, nvec-v0)
			for v := v0; v < vs; v++ {
				stats(0, px, v)
				stats(1, second(px), v)
			}
			for v := v0; v < vs; v++ {
				apply(pa, py, v)
			}
			for v := v0; v < vs; v++ {
				apply(second(pa), second(py), v)
			}
		}
	}, func() { lanes.flush(acc) })
	Label(lbl(name, "done"))
	SFENCE()
	VZEROUPPER()
	RET()
}

// pivotAndParams broadcasts the parameter pivot and the four parameters
// of one channel at pp (hi, lo, a, b) into vector registers.
func pivotAndParams(isa ISA, pp Register) (sc VecVirtual, par []VecVirtual) {
	sc = isa.Vec()
	VBROADCASTSS(paramAddr("pivot"), sc)
	par = make([]VecVirtual, 4)
	for i := range par {
		par[i] = isa.Vec()
		VBROADCASTSS(Mem{Base: pp, Disp: 4 * i}, par[i])
	}
	return sc, par
}
