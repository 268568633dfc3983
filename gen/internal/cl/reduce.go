package cl

import (
	"fmt"
	"log"

	. "github.com/mmcloughlin/avo/build"
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
	PG  int
	Row func(r *Row)
}

// Physical general-purpose registers of the reduction skeleton.
var (
	rAcc  = reg.R8  // acc base
	rX    = reg.RSI // x, start of the current 128-row block
	rDy   = reg.RDI // dy - x, in bytes
	rRows = reg.RBX // rows left from the current block on
	rStr  = reg.RDX // C*4: row stride in bytes
	rC8   = reg.R9  // C*8: float64 stride of one (quantity, phase)
	rCv   = reg.R10 // pivot / mean base
	rCo   = reg.R11 // byte offset of the chunk in the row
	rRp   = reg.R12 // row pointer
	rCnt  = reg.R13 // row counter
	rNb   = reg.R14 // rows of the current block
	rTmp  = reg.RAX
	rTmp2 = reg.RCX
)

// Generate emits the kernel.
func (i *ISA) Reduce(k Reduction) {
	TEXT(k.Name, NOSPLIT, k.Sig)
	Pragma("noescape")
	pg := k.PG
	if pg == 0 {
		pg = Phases
	}
	if Phases%pg != 0 {
		log.Fatalf("%s: %d phases per pass", k.Name, pg)
	}
	nacc := k.NQ * pg * k.W
	vi := 0
	acc := make([][][]reg.VecPhysical, k.NQ) // [q][phase in pass][w]
	for q := range acc {
		acc[q] = make([][]reg.VecPhysical, pg)
		for u := range acc[q] {
			for w := 0; w < k.W; w++ {
				acc[q][u] = append(acc[q][u], i.Vec(vi))
				vi++
			}
		}
	}
	cv := make([]reg.VecPhysical, k.W)
	for w := range cv {
		cv[w] = i.Vec(vi)
		vi++
	}
	var maskY reg.VecPhysical
	if !i.AVX512() {
		maskY = i.Vec(vi)
		vi++
	}
	var temps []reg.VecPhysical
	for ; vi < i.NReg; vi++ {
		temps = append(temps, i.Vec(vi))
	}
	if len(temps) < 2 {
		log.Fatalf("%s: %d accumulators leave %d temporaries", k.Name, nacc, len(temps))
	}
	// Flush scratch: the temporaries and the constant registers.
	fl := append(append([]reg.VecPhysical{}, temps...), cv...)

	done := i.Label("done")
	Load(Param("acc").Base(), rAcc)
	Load(Param("x").Base(), rX)
	if k.HasDy {
		Load(Param("dy").Base(), rDy)
		SUBQ(rX, rDy)
	}
	Load(Param("rows"), rRows)
	Load(Param("C"), rTmp2)
	Load(Param(k.CName).Base(), rCv)
	TESTQ(rRows, rRows)
	JLE(LabelRef(done))
	TESTQ(rTmp2, rTmp2)
	JLE(LabelRef(done))
	MOVQ(rTmp2, rStr)
	SHLQ(U8(2), rStr)
	LEAQ(Mem{Base: rStr, Index: rStr, Scale: 1}, rC8)
	i.TailMask(k.Name, rTmp2, maskY)

	next := 0
	body := func(nv int, masked bool) {
		chunkComment(nv, masked)
		for p0 := 0; p0 < Phases; p0 += pg {
			i.pass(k, nv, masked, p0, pg, acc, cv, temps, fl, &next)
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
	i.chunks(k.W, rCo, rStr, body)
	MOVQ(rStr, rTmp)
	SHLQ(U8(7), rTmp)
	ADDQ(rTmp, rX)
	SUBQ(U32(FlushRows), rRows)
	JG(LabelRef(block))

	Label(done)
	VZEROUPPER()
	RET()
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
		for w := 0; w < nv; w++ {
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
	LEAQ(Mem{Base: rAcc, Index: rCo, Scale: 2}, rTmp)
	for q := range acc {
		for u := 0; u < Phases; u++ {
			if j := u - p0; j >= 0 && j < pg {
				for w := 0; w < nv; w++ {
					i.Flush(acc[q][j][w], Mem{Base: rTmp, Disp: w * i.V * 8}, masked, fl[0], fl[1], fl[2])
				}
			}
			if q < len(acc)-1 || u < Phases-1 {
				ADDQ(rC8, rTmp)
			}
		}
	}
}

// chunks walks the channel chunks of a row: chunks of W full vectors, then
// single full vectors, then the masked tail vector (if C % V != 0). co is
// the chunk's byte offset, str the row length in bytes.
func (i *ISA) chunks(W int, co, str reg.Register, body func(nv int, masked bool)) {
	single, masked, end := i.Label("single"), i.Label("masked"), i.Label("chunksdone")
	if W > 1 {
		lw := i.Label("wide")
		Label(lw)
		LEAQ(Mem{Base: co, Disp: W * i.V * 4}, rTmp)
		CMPQ(rTmp, str)
		JGT(LabelRef(single))
		body(W, false)
		ADDQ(U32(W*i.V*4), co)
		JMP(LabelRef(lw))
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
