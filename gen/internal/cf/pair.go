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
//
// Software prefetches do not help it from memory: a PREFETCHT0 of every
// line of the four streams 1 KB ahead took Backward of 64x128x56x56
// channels first from 1.57-1.65x copy() to 1.63-1.68, 4 KB ahead to
// 1.71-1.74 (tune harness, TUNE_COLD=1, -benchtime 30x, three rounds of
// the three test binaries alternating, 2026-12-08).
func BackwardCFPair(isa ISA) {
	name := "backwardCFPair" + isa.Suffix
	TEXT(name, NOSPLIT, "func(acc []float64, dy, x []float32, n, pair int, mean float32)")
	Pragma("noescape")
	Doc(name+" is the "+isa.Suffix+" form of fallback.BackwardCFPair, with the same bits.",
		"It requires n and pair to be multiples of 16.")
	lanes := newPairLanes(isa, 3)
	acc := Mem{Base: Load(Param("acc").Base(), GP64())}
	px := Mem{Base: Load(Param("x").Base(), GP64())}
	pdy := Mem{Base: Load(Param("dy").Base(), GP64())}
	second := pairOffset()
	size := Load(Param("n"), GP64())
	TESTQ(size, size)
	JLE(LabelRef(lbl(name, "done")))
	m := isa.Vec()
	VBROADCASTSS(paramAddr("mean"), m)
	lanes.zero()

	// add feeds vector v of stream k's block at x and dy to its lanes:
	// Sdy += dy, P += dy*(x - mean), R += x - mean.
	add := func(k int, x, dy Mem, v int) {
		t, g := isa.Vec(), isa.Vec()
		VMOVUPS(x.Offset(v*isa.Bytes()), t)
		VSUBPS(m, t, t) // t = x - mean
		VMOVUPS(dy.Offset(v*isa.Bytes()), g)
		lanes.add(k, 0, v, g)
		VMULPS(t, g, g) // dy*t, rounded before the add
		lanes.add(k, 1, v, g)
		lanes.add(k, 2, v, t)
	}
	pairBlocks(isa, name, size, []Mem{px, pdy}, func(nvec int) {
		for v := range nvec {
			add(0, px, pdy, v)
			add(1, second(px), second(pdy), v)
		}
	}, func() { lanes.flush(acc) })
	Label(lbl(name, "done"))
	VZEROUPPER()
	RET()
}

// pairLanes are the float32 lanes of a Pair kernel's two streams, nq
// quantities each: in registers, but for the second stream's on AVX2, which
// has too few vector registers for both and keeps them on the stack.
type pairLanes struct {
	isa   ISA
	nq    int
	regs  [2][][]VecVirtual // [stream][q][v]; regs[1] nil on AVX2
	stack Mem               // AVX2: the second stream's lanes, q-major
}

// newPairLanes allocates the lanes (before any Load, as AllocLocal must).
func newPairLanes(isa ISA, nq int) *pairLanes {
	l := &pairLanes{isa: isa, nq: nq}
	if !isa.Z {
		l.stack = AllocLocal(nq * Lanes * 4)
	}
	return l
}

// zero sets every lane to 0.
func (l *pairLanes) zero() {
	isa, nv := l.isa, Lanes/l.isa.W
	for k := range 2 {
		if k == 1 && !isa.Z {
			z := isa.Vec()
			isa.zero(z)
			for i := range l.nq * nv {
				VMOVUPS(z, l.stack.Offset(i*isa.Bytes()))
			}
			continue
		}
		l.regs[k] = make([][]VecVirtual, l.nq)
		for q := range l.regs[k] {
			l.regs[k][q] = make([]VecVirtual, nv)
			for v := range l.regs[k][q] {
				l.regs[k][q][v] = isa.Vec()
				isa.zero(l.regs[k][q][v])
			}
		}
	}
}

// add adds t to lane vector v of quantity q of stream k (lane + t: the
// same sum either way round).
func (l *pairLanes) add(k, q, v int, t VecVirtual) {
	if l.regs[k] != nil {
		a := l.regs[k][q][v]
		VADDPS(t, a, a)
		return
	}
	m := l.stack.Offset((q*Lanes/l.isa.W + v) * l.isa.Bytes())
	s := l.isa.Vec()
	VADDPS(m, t, s)
	VMOVUPS(s, m)
}

// flush adds both streams' lanes to their float64 lanes, the first's at
// acc and the second's nq*Lanes values on, and sets them to 0.
func (l *pairLanes) flush(acc Mem) {
	isa := l.isa
	isa.flushLanes(l.regs[0], acc)
	acc2 := acc.Offset(8 * l.nq * Lanes)
	if isa.Z {
		isa.flushLanes(l.regs[1], acc2)
		return
	}
	Comment("The second stream's lanes, from the stack.")
	for q := range l.nq {
		for v := range Lanes / isa.W {
			a := isa.Vec()
			m := l.stack.Offset((q*Lanes/isa.W + v) * isa.Bytes())
			VMOVUPS(m, a)
			isa.flushLane(a, acc2.Offset(8*(q*Lanes+v*isa.W)))
			VMOVUPS(a, m)
		}
	}
}

// pairOffset loads the parameter pair as a byte offset and returns the
// operand of a stream pointer's twin: the same address pair values on.
func pairOffset() func(b Mem) Mem {
	d := Load(Param("pair"), GP64())
	SHLQ(U8(2), d)
	return func(b Mem) Mem { return Mem{Base: b.Base, Index: d, Scale: 1} }
}

// pairBlocks emits the walk of a Pair kernel over n values (a multiple of
// 16): blocks of 32 values of both streams (vectors(Lanes/W)), the
// pointers ptrs stepped after each and the lanes flushed every FlushCF
// values; a last half block of 16 values (lanes 0-15, as in fallback); and
// the last flush, unless n is a multiple of FlushCF and the blocks made
// it. It falls through to the kernel's end.
func pairBlocks(isa ISA, name string, n Register, ptrs []Mem, vectors func(nvec int), flush func()) {
	Comment("Blocks of 32 values of both streams, flushed every FlushCF values.")
	blocks, seg := GP64(), GP64()
	MOVQ(n, blocks)
	SHRQ(U8(5), blocks)
	JZ(LabelRef(lbl(name, "half")))
	MOVQ(U32(FlushCF/Lanes), seg)
	Label(lbl(name, "block"))
	vectors(Lanes / isa.W)
	for _, p := range ptrs {
		ADDQ(U8(4*Lanes), p.Base)
	}
	DECQ(seg)
	JNZ(LabelRef(lbl(name, "noflush")))
	flush()
	MOVQ(U32(FlushCF/Lanes), seg)
	Label(lbl(name, "noflush"))
	DECQ(blocks)
	JNZ(LabelRef(lbl(name, "block")))

	Comment("A last half block of 16 values: lanes 0-15.")
	Label(lbl(name, "half"))
	TESTQ(U32(Lanes/2), n)
	JZ(LabelRef(lbl(name, "last")))
	vectors(Lanes / 2 / isa.W)

	Comment("The last flush, unless n is a multiple of FlushCF and the blocks made it.")
	Label(lbl(name, "last"))
	TESTQ(U32(FlushCF-1), n)
	JZ(LabelRef(lbl(name, "done")))
	flush()
}
