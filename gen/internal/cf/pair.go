package cf

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// BackwardCFPair generates backwardCFPair<ISA>, the form of
// fallback.BackwardCFPair: the backward reductions of two runs pair values
// apart (in Backward, sample r and sample r+pair/(C*S) of one channel),
// walked vector by vector in one loop, each with its own lanes. One core
// on this machine reads more bytes with four streams (x and dy of two
// samples) than with two: a scratch model of Backward's pipelined groups
// (32x64x56x56 from memory, two channels a group) took 2.10-2.28x copy()
// with one sample per call and 1.87-1.99 with both the reductions and the
// apply paired.
//
// It takes whole vectors only: n and pair multiples of 16 values, so it
// has no masks; a run's last 16 values, when n is not a multiple of 32,
// go to lanes 0-15 as in fallback. The lanes are flushed every FlushCF
// values and at the end. AVX2 has too few vector registers for both
// runs' lanes and keeps the second run's float32 lanes on the stack.
func BackwardCFPair(isa ISA) {
	name := "backwardCFPair" + isa.Suffix
	TEXT(name, NOSPLIT, "func(acc []float64, dy, x []float32, n, pair int, mean float32)")
	Pragma("noescape")
	Doc(name+" is the "+isa.Suffix+" form of fallback.BackwardCFPair, with the same bits.",
		"It requires n and pair to be multiples of 16.")
	const nq = 3
	nv := Lanes / isa.W
	var lanes2 Mem // AVX2: the second run's float32 lanes, q-major
	if !isa.Z {
		lanes2 = AllocLocal(nq * Lanes * 4)
	}

	acc := Mem{Base: Load(Param("acc").Base(), GP64())}
	acc2 := acc.Offset(8 * nq * Lanes)
	px := Mem{Base: Load(Param("x").Base(), GP64())}
	pdy := Mem{Base: Load(Param("dy").Base(), GP64())}
	d := Load(Param("pair"), GP64())
	SHLQ(U8(2), d)
	size := Load(Param("n"), GP64())
	TESTQ(size, size)
	JLE(LabelRef(lbl(name, "done")))

	m := isa.Vec()
	VBROADCASTSS(paramAddr("mean"), m)
	newLanes := func() [][]VecVirtual {
		a := make([][]VecVirtual, nq)
		for q := range a {
			a[q] = make([]VecVirtual, nv)
			for v := range a[q] {
				a[q][v] = isa.Vec()
				isa.zero(a[q][v])
			}
		}
		return a
	}
	accs1 := newLanes()
	var accs2 [][]VecVirtual
	if isa.Z {
		accs2 = newLanes()
	} else {
		z := isa.Vec()
		isa.zero(z)
		for i := range nq * nv {
			VMOVUPS(z, lanes2.Offset(i*isa.Bytes()))
		}
	}
	second := func(b Mem) Mem { return Mem{Base: b.Base, Index: d, Scale: 1} }

	// add feeds vector v of the block at x and dy to lanes accs, or, when
	// accs is nil, to the lanes on the stack: Sdy += dy, P += dy*(x -
	// mean), R += x - mean.
	add := func(x, dy Mem, v int, accs [][]VecVirtual) {
		t, g := isa.Vec(), isa.Vec()
		VMOVUPS(x.Offset(v*isa.Bytes()), t)
		VSUBPS(m, t, t) // t = x - mean
		VMOVUPS(dy.Offset(v*isa.Bytes()), g)
		if accs != nil {
			VADDPS(g, accs[0][v], accs[0][v])
			VMULPS(t, g, g) // dy*t, rounded before the add
			VADDPS(g, accs[1][v], accs[1][v])
			VADDPS(t, accs[2][v], accs[2][v])
			return
		}
		s := isa.Vec()
		lane := func(q int) Mem { return lanes2.Offset((q*nv + v) * isa.Bytes()) }
		VADDPS(lane(0), g, s)
		VMOVUPS(s, lane(0))
		VMULPS(t, g, g)
		VADDPS(lane(1), g, s)
		VMOVUPS(s, lane(1))
		VADDPS(lane(2), t, s)
		VMOVUPS(s, lane(2))
	}
	vectors := func(nvec int) {
		for v := range nvec {
			add(px, pdy, v, accs1)
			add(second(px), second(pdy), v, accs2)
		}
	}
	flush := func() {
		isa.flushLanes(accs1, acc)
		if isa.Z {
			isa.flushLanes(accs2, acc2)
			return
		}
		Comment("The second run's lanes, from the stack.")
		for q := range nq {
			for v := range nv {
				a := isa.Vec()
				l := lanes2.Offset((q*nv + v) * isa.Bytes())
				VMOVUPS(l, a)
				isa.flushLane(a, acc2.Offset(8*(q*Lanes+v*isa.W)))
				VMOVUPS(a, l)
			}
		}
	}

	Comment("Blocks of 32 values of both runs, flushed every FlushCF values.")
	blocks, seg := GP64(), GP64()
	MOVQ(size, blocks)
	SHRQ(U8(5), blocks)
	JZ(LabelRef(lbl(name, "half")))
	MOVQ(U32(FlushCF/Lanes), seg)
	Label(lbl(name, "block"))
	vectors(nv)
	ADDQ(U8(4*Lanes), px.Base)
	ADDQ(U8(4*Lanes), pdy.Base)
	DECQ(seg)
	JNZ(LabelRef(lbl(name, "noflush")))
	flush()
	MOVQ(U32(FlushCF/Lanes), seg)
	Label(lbl(name, "noflush"))
	DECQ(blocks)
	JNZ(LabelRef(lbl(name, "block")))

	Comment("A last half block of 16 values: lanes 0-15.")
	Label(lbl(name, "half"))
	TESTQ(U32(Lanes/2), size)
	JZ(LabelRef(lbl(name, "last")))
	vectors(Lanes / 2 / isa.W)

	Comment("The last flush, unless n is a multiple of FlushCF and the blocks made it.")
	Label(lbl(name, "last"))
	TESTQ(U32(FlushCF-1), size)
	JZ(LabelRef(lbl(name, "done")))
	flush()

	Label(lbl(name, "done"))
	VZEROUPPER()
	RET()
}
