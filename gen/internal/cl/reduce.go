package cl

import (
	"fmt"
	"log"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// Phases and FlushRows are fallback.Phases and fallback.FlushRowsCL.
const (
	Phases    = 4
	FlushRows = 128
)

// Row is the per-row work of a reduction for one vector of a chunk.
type Row struct {
	U, W   int               // phase (row % Phases) and vector index in the chunk
	X, Dy  Mem               // the row's vector of x (and of dy, when the kernel has dy)
	Masked bool              // the vector is the masked tail vector
	C      reg.VecPhysical   // the per-channel constant (pivot or mean)
	Acc    []reg.VecPhysical // the float32 accumulators of this (phase, vector), one per quantity
	ISA    *ISA
	temps  []reg.VecPhysical
	next   *int
}

// Temp returns a scratch vector register (rotating through a pool).
func (r *Row) Temp() reg.VecPhysical {
	t := r.temps[*r.next%len(r.temps)]
	*r.next++
	return t
}

// Load loads m into dst, masked if the row is the tail vector.
func (r *Row) Load(m Mem, dst reg.VecPhysical) { r.ISA.Load(m, dst, r.Masked) }

// Reduction describes a channels-last reduction kernel
// (see fallback.StatsCL and fallback.BackwardCL).
type Reduction struct {
	Name  string // symbol name
	Sig   string // Go signature
	CName string // name of the per-channel constant slice ("pivot", "mean")
	HasDy bool   // the kernel reads dy as well as x
	NQ    int    // quantities accumulated per channel and phase
	W     int    // vectors of a main chunk
	// PG is the number of phases a pass over a chunk's rows handles (1, 2
	// or 4; 0 means 4): with PG < 4 the rows of a 128-row block are walked
	// 4/PG times, each pass taking only the rows of its phases, which
	// needs PG/4 of the accumulators (and so allows wider chunks).
	PG int
	// WideC: above this many channels the kernel walks the rows in memory
	// order instead, with its float32 lanes in the scratch slice tmp (see
	// reduceWide); 0 means never.
	WideC int
	// Prefetch: every row visit also prefetches the lines it reads (x,
	// and dy) PrefetchRows rows further on, which the same visit of the
	// next 128-row block reads. For data that comes from memory, whose
	// strided chunk walk the hardware prefetchers follow poorly; in cache
	// the extra instructions only cost.
	Prefetch bool
	Row      func(r *Row)
}

// WideUnroll is the number of vectors of a row that one iteration of the
// wide walk updates: one vector per iteration spent as many instructions
// on the loop as on the lanes. AVX2, BenchmarkCL on 1 MB, three runs of
// the old and new kernels alternating: statistics 24-30 -> 29-40 GB/s at
// C = 64 to 512 (22-26 -> 25-29 at C = 1024), backward and 64 MB level;
// bnbench -impls avx2, 8x512x7x7 channels last, three pairs: statistics
// 1.61-1.78 -> 1.49-1.54x copy(), training 3.11-3.17 -> 2.92-2.98.
const WideUnroll = 4

// PrefetchRows is the distance, in rows, of a Prefetch kernel's
// prefetches: one block of FlushRows rows.
const PrefetchRows = FlushRows

// Physical general-purpose registers of the reduction skeleton.
var (
	rAcc  = reg.R8  // acc base
	rX    = reg.RSI // x, start of the current 128-row block
	rDy   = reg.RDI // dy - x, in bytes
	rRows = reg.RBX // rows left from the current block on
	rStr  = reg.RDX // ld*4: row stride in bytes
	rC4   = reg.R9  // C*4: the chunks' bound; C*8 is the float64 stride of one (quantity, phase)
	rCv   = reg.R10 // pivot / mean base
	rCo   = reg.R11 // byte offset of the chunk in the row
	rRp   = reg.R12 // row pointer
	rCnt  = reg.R13 // row counter
	rNb   = reg.R14 // rows of the current block
	rTmp  = reg.RAX
	rTmp2 = reg.RCX // C at entry; then, with Prefetch, PrefetchRows*ld*4
)

// Generate emits the kernel.
func (i *ISA) Reduce(k Reduction) {
	TEXT(k.Name, NOSPLIT, k.Sig)
	Pragma("noescape")
	// The AVX2 tail mask takes the last register; the chunk layouts share
	// the others.
	nreg := i.NReg
	var maskY reg.VecPhysical
	if !i.AVX512() {
		nreg--
		maskY = i.Vec(nreg)
	}
	layouts := map[int]chunkLayout{}
	for nv := 1; nv <= k.W; nv++ {
		layouts[nv] = i.layout(k, nv, nreg)
	}

	done := i.Label("done")
	Load(Param("acc").Base(), rAcc)
	Load(Param("x").Base(), rX)
	if k.HasDy {
		Load(Param("dy").Base(), rDy)
		SUBQ(rX, rDy)
	}
	Load(Param("rows"), rRows)
	Load(Param("C"), rTmp2)
	Load(Param("ld"), rStr)
	Load(Param(k.CName).Base(), rCv)
	TESTQ(rRows, rRows)
	JLE(LabelRef(done))
	TESTQ(rTmp2, rTmp2)
	JLE(LabelRef(done))
	MOVQ(rTmp2, rC4)
	SHLQ(U8(2), rC4)
	SHLQ(U8(2), rStr)
	i.TailMask(k.Name, rTmp2, maskY)
	if k.Prefetch {
		MOVQ(rStr, rTmp2)
		SHLQ(U8(log2(PrefetchRows)), rTmp2)
	}
	wide := i.Label("wide")
	if k.WideC > 0 {
		CMPQ(rC4, U32(4*k.WideC))
		JGT(LabelRef(wide))
	}

	next := 0
	body := func(nv int, masked bool) {
		chunkComment(nv, masked)
		l := layouts[nv]
		for p0 := 0; p0 < Phases; p0 += l.pg {
			i.pass(k, nv, masked, p0, l.pg, l.acc, l.cv, l.temps, l.fl, &next)
		}
	}

	block := i.Label("block")
	Label(block)
	// nb = min(rows left, FlushRows)
	MOVQ(U32(FlushRows), rNb)
	CMPQ(rRows, rNb)
	full := i.Label("fullblock")
	JGE(LabelRef(full))
	MOVQ(rRows, rNb)
	Label(full)
	XORQ(rCo, rCo)
	i.chunks(k.W, rCo, rC4, body)
	MOVQ(rStr, rTmp)
	SHLQ(U8(7), rTmp)
	ADDQ(rTmp, rX)
	SUBQ(U32(FlushRows), rRows)
	JG(LabelRef(block))

	Label(done)
	VZEROUPPER()
	RET()

	if k.WideC > 0 {
		Label(wide)
		i.reduceWide(k, nreg, &next)
		VZEROUPPER()
		RET()
	}
}

// Registers of the wide path (reduceWide), besides rStr, rRows, rX, rDy,
// rC4 and rCv of the skeleton.
var (
	wSlot = reg.RAX // tmp slot of the current vector and phase
	wScr  = reg.RCX // scratch
	wXp   = reg.R8  // x of the current vector (the acc base while flushing)
	wCo   = reg.R11 // byte offset of the vector in the row
	wRow  = reg.R12 // the current row (the acc pointer while flushing)
	wCnt  = reg.R13 // row of the current block, from 0
	wTmp  = reg.R14 // tmp base
)

// reduceWide emits the wide path of a reduction: the rows of each 128-row
// block walked in memory order, one vector of channels after another, with
// the float32 lanes in tmp, loaded and stored around each row's update;
// then the flush into acc. The arithmetic per lane is the skeleton's (the
// same Row). tmp holds, for channel vector v, phase u and quantity q, one
// vector at ((v*Phases + u)*NQ + q)*V: len(tmp) >= NQ*Phases*ceil(C/V)*V.
// Lanes past C stay +0: their x and constant are loaded as 0.
func (i *ISA) reduceWide(k Reduction, nreg int, next *int) {
	vecB := i.V * 4
	slot := k.NQ * vecB
	vstep := Phases * slot
	cv := i.Vec(0)
	acc := make([]reg.VecPhysical, k.NQ)
	for q := range acc {
		acc[q] = i.Vec(1 + q)
	}
	var temps []reg.VecPhysical
	for v := 1 + k.NQ; v < nreg; v++ {
		temps = append(temps, i.Vec(v))
	}
	zero := temps[len(temps)-1]

	Load(Param("tmp").Base(), wTmp)
	Comment("tmp = 0")
	MOVQ(rC4, wScr)
	ADDQ(U32(vecB-1), wScr)
	SHRQ(U8(log2(vecB)), wScr)
	MOVQ(wTmp, wSlot)
	Zero(zero)
	zl := i.Label("widezero")
	Label(zl)
	for j := 0; j < Phases*k.NQ; j++ {
		VMOVUPS(zero, Mem{Base: wSlot, Disp: j * vecB})
	}
	ADDQ(U32(vstep), wSlot)
	DECQ(wScr)
	JNZ(LabelRef(zl))

	// vec updates the lanes of vector j of the current group (the row's
	// vector at wXp + j*vecB, its constant at wCo + j*vecB, its slots at
	// wSlot + j*vstep).
	vec := func(masked bool, j int) {
		if k.Prefetch && (j*vecB)%64 == 0 {
			// One prefetch per line; wScr is free here (the loop used it
			// for the bound).
			if j == 0 {
				MOVQ(rStr, wScr)
				SHLQ(U8(log2(PrefetchRows)), wScr)
			}
			PREFETCHT0(Mem{Base: wXp, Index: wScr, Scale: 1, Disp: j * vecB})
			if k.HasDy {
				ADDQ(rDy, wScr)
				PREFETCHT0(Mem{Base: wXp, Index: wScr, Scale: 1, Disp: j * vecB})
				SUBQ(rDy, wScr)
			}
		}
		i.Load(Mem{Base: rCv, Index: wCo, Scale: 1, Disp: j * vecB}, cv, masked)
		for q := range acc {
			VMOVUPS(Mem{Base: wSlot, Disp: j*vstep + q*vecB}, acc[q])
		}
		r := &Row{Masked: masked, C: cv, Acc: acc, ISA: i, temps: temps[:len(temps)-1], next: next,
			X: Mem{Base: wXp, Disp: j * vecB}}
		if k.HasDy {
			r.Dy = Mem{Base: wXp, Index: rDy, Scale: 1, Disp: j * vecB}
		}
		k.Row(r)
		for q := range acc {
			VMOVUPS(acc[q], Mem{Base: wSlot, Disp: j*vstep + q*vecB})
		}
	}
	// vectors walks the vectors of a row (or of tmp): groups of unroll full
	// ones, then single full ones, then the masked tail; body(masked, j)
	// handles vector j of a group, and step(n) moves on by n vectors.
	vectors := func(unroll int, body func(masked bool, j int), step func(n int)) {
		group, full, tail, end := i.Label("widegroup"), i.Label("widevec"), i.Label("widetail"), i.Label("wideend")
		XORQ(wCo, wCo)
		if unroll > 1 {
			Label(group)
			LEAQ(Mem{Base: wCo, Disp: unroll * vecB}, wScr)
			CMPQ(wScr, rC4)
			JGT(LabelRef(full))
			for j := range unroll {
				body(false, j)
			}
			step(unroll)
			ADDQ(U32(unroll*vecB), wCo)
			JMP(LabelRef(group))
		}
		Label(full)
		LEAQ(Mem{Base: wCo, Disp: vecB}, wScr)
		CMPQ(wScr, rC4)
		JGT(LabelRef(tail))
		body(false, 0)
		step(1)
		ADDQ(U32(vecB), wCo)
		JMP(LabelRef(full))
		Label(tail)
		CMPQ(wCo, rC4)
		JEQ(LabelRef(end))
		body(true, 0)
		Label(end)
	}

	block, row, flush := i.Label("wideblock"), i.Label("widerow"), i.Label("wideflush")
	Label(block)
	XORQ(wCnt, wCnt)
	MOVQ(rX, wRow)
	Label(row)
	Comment("slot = tmp + (row % Phases)*NQ*V")
	MOVQ(wCnt, wSlot)
	ANDQ(U8(Phases-1), wSlot)
	IMUL3Q(U32(slot), wSlot, wSlot)
	ADDQ(wTmp, wSlot)
	MOVQ(wRow, wXp)
	vectors(WideUnroll, vec, func(n int) {
		ADDQ(U32(n*vecB), wXp)
		ADDQ(U32(n*vstep), wSlot)
	})
	ADDQ(rStr, wRow)
	INCQ(wCnt)
	CMPQ(wCnt, rRows)
	JGE(LabelRef(flush))
	CMPQ(wCnt, U32(FlushRows))
	JL(LabelRef(row))

	Label(flush)
	Comment("acc[(q*Phases + u)*C + c] (+)= float64(tmp lane); tmp lane = 0")
	t := temps[0]
	add, flushed := i.Label("wideaddflush"), i.Label("wideflushed")
	firstBlock(add)
	for _, set := range []bool{true, false} {
		if !set {
			Label(add)
		}
		Load(Param("acc").Base(), wXp)
		MOVQ(wTmp, wSlot)
		vectors(1, func(masked bool, _ int) {
			LEAQ(Mem{Base: wXp, Index: wCo, Scale: 2}, wRow)
			for q := 0; q < k.NQ; q++ {
				for u := 0; u < Phases; u++ {
					m := Mem{Base: wSlot, Disp: (u*k.NQ + q) * vecB}
					VMOVUPS(m, t)
					i.Flush(t, Mem{Base: wRow}, masked, set, temps[1], temps[2], temps[3])
					VMOVUPS(zero, m)
					if q < k.NQ-1 || u < Phases-1 {
						LEAQ(Mem{Base: wRow, Index: rC4, Scale: 2}, wRow)
					}
				}
			}
		}, func(int) { ADDQ(U32(vstep), wSlot) })
		if set {
			JMP(LabelRef(flushed))
		}
	}
	Label(flushed)
	MOVQ(rStr, wScr)
	SHLQ(U8(7), wScr)
	ADDQ(wScr, rX)
	SUBQ(U32(FlushRows), rRows)
	JG(LabelRef(block))
}

// Alias emits kernel name as a jump to kernel target, which has the same
// signature: a form that a tier does not need to differ from its plain
// kernel.
func (i *ISA) Alias(name, target, sig string) {
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	// A tail call: avo's JMP takes only labels of the function itself.
	Instruction(&ir.Instruction{
		Opcode:     "JMP",
		Operands:   []Op{Mem{Symbol: Symbol{Name: "·" + target}, Base: reg.StaticBase}},
		IsTerminal: true,
	})
}

func log2(n int) int {
	l := 0
	for 1<<l < n {
		l++
	}
	if 1<<l != n {
		log.Fatalf("log2(%d): not a power of two", n)
	}
	return l
}

// chunkLayout assigns registers to a chunk of nv vectors: pg phases per
// pass (4, 2 or 1: the most whose accumulators fit, leaving at least four
// temporaries), the accumulators [q][phase in pass][vector], the
// per-channel constants, the temporaries and the flush scratch.
type chunkLayout struct {
	pg            int
	acc           [][][]reg.VecPhysical
	cv, temps, fl []reg.VecPhysical
}

func (i *ISA) layout(k Reduction, nv, nreg int) chunkLayout {
	pg := Phases
	for pg > 1 && k.NQ*pg*nv+nv+4 > nreg {
		pg /= 2
	}
	if k.PG > 0 && nv == k.W {
		pg = min(pg, k.PG)
	}
	if k.NQ*pg*nv+nv+2 > nreg {
		log.Fatalf("%s: a chunk of %d vectors does not fit %d registers", k.Name, nv, nreg)
	}
	l := chunkLayout{pg: pg}
	vi := 0
	l.acc = make([][][]reg.VecPhysical, k.NQ)
	for q := range l.acc {
		l.acc[q] = make([][]reg.VecPhysical, pg)
		for u := range l.acc[q] {
			for w := 0; w < nv; w++ {
				l.acc[q][u] = append(l.acc[q][u], i.Vec(vi))
				vi++
			}
		}
	}
	for w := 0; w < nv; w++ {
		l.cv = append(l.cv, i.Vec(vi))
		vi++
	}
	for ; vi < nreg; vi++ {
		l.temps = append(l.temps, i.Vec(vi))
	}
	// Flush scratch: the temporaries and the constant registers.
	l.fl = append(append([]reg.VecPhysical{}, l.temps...), l.cv...)
	return l
}

// pass emits one pass over the rows of a chunk of nv vectors (masked: the
// tail vector) for the phases p0 .. p0+pg-1 of each group of Phases rows:
// zero the accumulators, walk the rows, flush.
func (i *ISA) pass(k Reduction, nv int, masked bool, p0, pg int, acc [][][]reg.VecPhysical, cv, temps, fl []reg.VecPhysical, next *int) {
	for w := 0; w < nv; w++ {
		i.Load(Mem{Base: rCv, Index: rCo, Scale: 1, Disp: w * i.V * 4}, cv[w], masked)
	}
	for q := range acc {
		for j := range acc[q] {
			for w := 0; w < nv; w++ {
				Zero(acc[q][j][w])
			}
		}
	}
	row := func(j int) {
		if k.Prefetch && k.HasDy {
			LEAQ(Mem{Base: rRp, Index: rDy, Scale: 1}, rTmp)
		}
		for w := 0; w < nv; w++ {
			if k.Prefetch {
				PREFETCHT0(Mem{Base: rRp, Index: rTmp2, Scale: 1, Disp: w * i.V * 4})
				if k.HasDy {
					PREFETCHT0(Mem{Base: rTmp, Index: rTmp2, Scale: 1, Disp: w * i.V * 4})
				}
			}
			r := &Row{U: p0 + j, W: w, Masked: masked, C: cv[w], ISA: i, temps: temps, next: next,
				X: Mem{Base: rRp, Disp: w * i.V * 4}}
			if k.HasDy {
				r.Dy = Mem{Base: rRp, Index: rDy, Scale: 1, Disp: w * i.V * 4}
			}
			for q := range acc {
				r.Acc = append(r.Acc, acc[q][j][w])
			}
			k.Row(r)
		}
		ADDQ(rStr, rRp)
	}
	loop, tail, flush := i.Label("rows4"), i.Label("rowtail"), i.Label("flush")
	LEAQ(Mem{Base: rX, Index: rCo, Scale: 1}, rRp)
	for u := 0; u < p0; u++ {
		ADDQ(rStr, rRp)
	}
	MOVQ(rNb, rCnt)
	SHRQ(U8(2), rCnt)
	JZ(LabelRef(tail))
	Label(loop)
	for j := 0; j < pg; j++ {
		row(j)
	}
	for u := pg; u < Phases; u++ {
		ADDQ(rStr, rRp)
	}
	DECQ(rCnt)
	JNZ(LabelRef(loop))
	Label(tail)
	// The last nb % 4 rows have phases 0 .. nb%4-1.
	MOVQ(rNb, rCnt)
	ANDQ(U32(3), rCnt)
	for j := 0; j < pg && p0+j < Phases-1; j++ {
		CMPQ(rCnt, U32(p0+j))
		JLE(LabelRef(flush))
		row(j)
	}
	Label(flush)
	// The first block's flush stores the lanes, the others add to them
	// (firstBlock).
	add, flushed := i.Label("addflush"), i.Label("flushed")
	firstBlock(add)
	for _, set := range []bool{true, false} {
		if !set {
			Label(add)
		}
		LEAQ(Mem{Base: rAcc, Index: rCo, Scale: 2}, rTmp)
		for q := range acc {
			for u := 0; u < Phases; u++ {
				if j := u - p0; j >= 0 && j < pg {
					for w := 0; w < nv; w++ {
						i.Flush(acc[q][j][w], Mem{Base: rTmp, Disp: w * i.V * 8}, masked, set, fl[0], fl[1], fl[2])
					}
				}
				if q < len(acc)-1 || u < Phases-1 {
					LEAQ(Mem{Base: rTmp, Index: rC4, Scale: 2}, rTmp)
				}
			}
		}
		if set {
			JMP(LabelRef(flushed))
		}
	}
	Label(flushed)
}

// firstBlock jumps to notFirst unless the current 128-row block (rX) is
// the call's first: a call sets acc to its sums rather than adding them
// (fallback.StatsCL), so the first block's flush stores the float64
// lanes and the later ones add to them. That spares the caller clearing
// acc (every slab's lanes, 24 KB of them for 256 channels) and the first
// flush its loads. Tune harness (`TUNE_SHAPE=8x512x49,nhwc go test -run
// '^$' -bench Tune -benchtime 300x ./reduce/`, warm, AVX-512, three
// rounds of the old and new test binaries alternating, 2026-12-07):
// Backward of 8x512x7x7 channels last 3.94-4.10x copy() -> 3.79-3.89,
// Train 1.78-1.83 -> 1.68-1.80; 256x1024 and 8x256x28x28 channels last
// level.
func firstBlock(notFirst string) {
	xp, err := Param("x").Base().Resolve()
	if err != nil {
		log.Fatal(err)
	}
	CMPQ(rX, xp.Addr)
	JNE(LabelRef(notFirst))
}

// chunks walks the channel chunks of a row: chunks of W full vectors, then
// single full vectors, then the masked tail vector (if C % V != 0). co is
// the chunk's byte offset, str the row length in bytes.
func (i *ISA) chunks(W int, co, str reg.Register, body func(nv int, masked bool)) {
	single, masked, end := i.Label("single"), i.Label("masked"), i.Label("chunksdone")
	// Chunks of W vectors, then (when W > 4) of 4, then (when W > 2) of
	// 2, then single vectors.
	stages := []int{W}
	if W > 4 {
		stages = append(stages, 4)
	}
	if W > 2 {
		stages = append(stages, 2)
	}
	for _, nv := range stages {
		if nv <= 1 {
			continue
		}
		lw, next := i.Label("wide"), i.Label("narrower")
		Label(lw)
		LEAQ(Mem{Base: co, Disp: nv * i.V * 4}, rTmp)
		CMPQ(rTmp, str)
		JGT(LabelRef(next))
		body(nv, false)
		ADDQ(U32(nv*i.V*4), co)
		JMP(LabelRef(lw))
		Label(next)
	}
	Label(single)
	LEAQ(Mem{Base: co, Disp: i.V * 4}, rTmp)
	CMPQ(rTmp, str)
	JGT(LabelRef(masked))
	body(1, false)
	ADDQ(U32(i.V*4), co)
	JMP(LabelRef(single))
	Label(masked)
	CMPQ(co, str)
	JEQ(LabelRef(end))
	body(1, true)
	Label(end)
}

func chunkComment(nv int, masked bool) {
	if masked {
		Comment("masked tail vector")
	} else {
		Comment(fmt.Sprintf("chunk of %d vectors", nv))
	}
}
