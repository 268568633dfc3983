package cl

import (
	"log"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// Elem is the work of one vector of an element-wise kernel.
type Elem struct {
	X, Dy, Out Mem               // the vector of x, of dy (if any) and of the output
	P          []reg.VecPhysical // the per-channel parameters of the vector
	Masked     bool
	ISA        *ISA
	temps      []reg.VecPhysical
	next       *int
	nt         bool
}

// Temp returns a scratch vector register (rotating through a pool).
func (e *Elem) Temp() reg.VecPhysical {
	t := e.temps[*e.next%len(e.temps)]
	*e.next++
	return t
}

// Load loads m into dst, masked if the vector is the tail vector.
func (e *Elem) Load(m Mem, dst reg.VecPhysical) { e.ISA.Load(m, dst, e.Masked) }

// Store stores src to the output, masked if the vector is the tail vector,
// non-temporally if the kernel is an NT one and the vector is full.
func (e *Elem) Store(src reg.VecPhysical) {
	if e.nt && !e.Masked {
		VMOVNTPS(src, e.Out)
		return
	}
	e.ISA.Store(src, e.Out, e.Masked)
}

// Elementwise describes a channels-last element-wise kernel
// (fallback.ApplyCL, fallback.BackwardApplyCL). The output is the first
// slice argument, OutName; the inputs are "x" and, with HasDy, "dy".
type Elementwise struct {
	Name    string
	Sig     string
	OutName string
	HasDy   bool
	NP      int // parameters per channel (planar: p[k*C+c])
	W       int // vectors of a main chunk
	Rows    int // rows per block (parameters are reloaded every block)
	WideC   int // above this many channels, one row per block (0: never)
	NTWideC int // WideC of the NT form (0: WideC)
	Elem    func(e *Elem)
	// NT makes full vectors use non-temporal stores (VMOVNTPS, then an
	// SFENCE before returning). The caller guarantees that every row of
	// the output starts on a vector-size boundary. On rows wider than
	// WideC, an NT kernel with dy (BackwardApplyCLNT) also prefetches x
	// and dy NTPrefetchRows rows ahead: its output is too large for the
	// cache, so its two inputs come from memory. Tune harness,
	// TUNE_COLD=1, alternating pairs: Backward of 64x128x3136 channels
	// last (the wide walk) took a median 3.08x copy without and 2.81 with
	// (eight pairs), 3.05 and 2.98 (eight), 3.17 and 2.91 (ten); with the
	// prefetches in the blocks of 8 rows too, 32x64x3136 (AVX-512: one
	// chunk per row) took 2.50 without and 2.65 with, hence the wide walk
	// only. In ApplyCLNT they gave Infer of 64x128x3136 1.05 without and
	// 1.09 with.
	NT bool
	// Paired walks the first half of the rows and the second in lockstep,
	// row r + rows/2 right after row r, then an odd count's last row
	// alone: two streams through memory instead of one, as cf's Pair
	// kernels do for channels first. ElementwiseWithNT sets it for the NT
	// forms, whose outputs are too large for the cache. The wide walk
	// prefetches (NTPrefetchRows) the row and its twin. Tune
	// harness, TUNE_COLD=1, binaries before and after alternating, three
	// pairs (AVX-512): channels last 32x64x56x56 Infer 0.92-1.03x copy()
	// -> 0.81-0.89, Train 1.49-1.69 -> 1.44-1.56, Backward 2.55-2.71 ->
	// 2.40-2.55; 64x128x56x56 Infer 1.02-1.20 -> 0.94-1.03, Train
	// 1.68-1.83 -> 1.67-1.73, Backward 2.69-3.04 -> 2.58-2.81. AVX2, two
	// pairs: 32x64x56x56 Infer 1.19-1.20 -> 1.10-1.18, Train 1.81 ->
	// 1.61-1.74, Backward 2.91-2.96 -> 2.63-2.67; 64x128x56x56 1.15-1.18
	// -> 0.89, 1.94-1.95 -> 1.53-1.69, 2.87-3.01 -> 2.62-2.89.
	Paired bool
}

// NTPrefetchRows is the distance, in rows, of BackwardApplyCLNT's
// prefetches. It is an address scale (of ld*4), so 1, 2, 4 or 8.
const NTPrefetchRows = 8

// ElementwiseWithNT emits the kernel k and its NT form, named with "NT"
// before the instruction set suffix.
func (i *ISA) ElementwiseWithNT(k Elementwise) {
	i.Elementwise(k)
	k.Name = k.Name[:len(k.Name)-len(i.Suffix())] + "NT" + i.Suffix()
	k.NT = true
	k.Paired = true
	if k.NTWideC > 0 {
		k.WideC = k.NTWideC
	}
	i.Elementwise(k)
}

// Physical general-purpose registers of the element-wise skeleton.
var (
	eX    = reg.RSI // x, start of the current row block
	eOut  = reg.RDI // out - x, in bytes
	eDy   = reg.R8  // dy - x, in bytes
	eRows = reg.RBX // rows left
	eStr  = reg.RDX // C*4: the chunks' bound and the parameters' stride
	eLd   = reg.RCX // ld*4: row stride in bytes (CX is free after the tail mask)
	eP    = reg.R10 // parameter base
	eCo   = reg.R11 // byte offset of the chunk in the row
	eRp   = reg.R12 // row pointer
	eCnt  = reg.R13 // row counter
	eNb   = reg.R14 // rows of the current block
	ePp   = reg.R9  // parameter pointer
)

// Elementwise emits the kernel.
func (i *ISA) Elementwise(k Elementwise) {
	TEXT(k.Name, NOSPLIT, k.Sig)
	Pragma("noescape")
	vi := 0
	par := make([][]reg.VecPhysical, k.W) // [w][param]
	for w := range par {
		for j := 0; j < k.NP; j++ {
			par[w] = append(par[w], i.Vec(vi))
			vi++
		}
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
		log.Fatalf("%s: %d temporaries", k.Name, len(temps))
	}

	done := i.Label("done")
	Load(Param("x").Base(), eX)
	Load(Param(k.OutName).Base(), eOut)
	SUBQ(eX, eOut)
	if k.HasDy {
		Load(Param("dy").Base(), eDy)
		SUBQ(eX, eDy)
	}
	Load(Param("rows"), eRows)
	Load(Param("C"), rTmp2)
	Load(Param("p").Base(), eP)
	TESTQ(eRows, eRows)
	JLE(LabelRef(done))
	TESTQ(rTmp2, rTmp2)
	JLE(LabelRef(done))
	MOVQ(rTmp2, eStr)
	SHLQ(U8(2), eStr)
	i.TailMask(k.Name, rTmp2, maskY)
	Load(Param("ld"), eLd)
	SHLQ(U8(2), eLd)

	next := 0
	prefetch := false // set for the wide walk of an NT kernel with dy
	// paired: the rows are walked as two halves in lockstep, row r of the
	// second half (at ePp, pairOff bytes on) right after row r of the
	// first (see Paired).
	paired := false
	var pairOff Mem
	if k.Paired {
		pairOff = AllocLocal(8)
	}
	body := func(nv int, masked bool) {
		chunkComment(nv, masked)
		LEAQ(Mem{Base: eP, Index: eCo, Scale: 1}, ePp)
		for j := 0; j < k.NP; j++ {
			for w := 0; w < nv; w++ {
				i.Load(Mem{Base: ePp, Disp: w * i.V * 4}, par[w][j], masked)
			}
			if j < k.NP-1 {
				ADDQ(eStr, ePp)
			}
		}
		loop := i.Label("rows")
		LEAQ(Mem{Base: eX, Index: eCo, Scale: 1}, eRp)
		MOVQ(eNb, eCnt)
		Label(loop)
		rows := []reg.Register{eRp}
		if paired {
			// The twin row, in ePp: the parameters are in registers now.
			MOVQ(eRp, ePp)
			ADDQ(pairOff, ePp)
			rows = append(rows, ePp)
		}
		if prefetch {
			// The same vectors of x and dy NTPrefetchRows rows on (ld*4*8
			// bytes), of the row and of its twin.
			for _, r := range rows {
				LEAQ(Mem{Base: r, Index: eDy, Scale: 1}, rTmp)
				for w := 0; w < nv; w++ {
					PREFETCHT0(Mem{Base: r, Index: eLd, Scale: NTPrefetchRows, Disp: w * i.V * 4})
					PREFETCHT0(Mem{Base: rTmp, Index: eLd, Scale: NTPrefetchRows, Disp: w * i.V * 4})
				}
			}
		}
		// elem emits vector w of the row at r.
		elem := func(r reg.Register, w int) {
			e := &Elem{P: par[w], Masked: masked, ISA: i, temps: temps, next: &next, nt: k.NT,
				X:   Mem{Base: r, Disp: w * i.V * 4},
				Out: Mem{Base: r, Index: eOut, Scale: 1, Disp: w * i.V * 4}}
			if k.HasDy {
				e.Dy = Mem{Base: r, Index: eDy, Scale: 1, Disp: w * i.V * 4}
			}
			k.Elem(e)
		}
		// With the rows paired, each row's 64-byte line is written whole
		// before its twin's (AVX2: two vectors a line; see the channels-
		// first pairedNT's line): the vectors go in groups of a line.
		perLine := 1
		if paired {
			perLine = max(1, 16/i.V)
		}
		for w0 := 0; w0 < nv; w0 += perLine {
			w1 := min(nv, w0+perLine)
			for w := w0; w < w1; w++ {
				elem(eRp, w)
			}
			if paired {
				for w := w0; w < w1; w++ {
					elem(ePp, w)
				}
			}
		}
		ADDQ(eLd, eRp)
		DECQ(eCnt)
		JNZ(LabelRef(loop))
	}

	// Rows per block: k.Rows keeps the parameters in registers across
	// rows, which pays when a row is a few vectors; with wide rows (more
	// than WideC channels) the parameters come from L1 every row instead
	// and the kernel streams in memory order, one row per block.
	blockLoop := func(rows int) {
		block := i.Label("block")
		Label(block)
		MOVQ(U32(rows), eNb)
		CMPQ(eRows, eNb)
		full := i.Label("fullblock")
		JGE(LabelRef(full))
		MOVQ(eRows, eNb)
		Label(full)
		XORQ(eCo, eCo)
		i.chunks(k.W, eCo, eStr, body)
		MOVQ(eLd, rTmp)
		IMUL3Q(U32(rows), rTmp, rTmp)
		ADDQ(rTmp, eX)
		SUBQ(U32(rows), eRows)
		JG(LabelRef(block))
	}
	walk := func() {
		if k.WideC > 0 {
			wide, walked := i.Label("wide"), i.Label("walked")
			CMPQ(eStr, U32(4*k.WideC))
			JG(LabelRef(wide))
			blockLoop(k.Rows)
			JMP(LabelRef(walked))
			Label(wide)
			prefetch = k.NT && k.HasDy
			blockLoop(1)
			prefetch = false
			Label(walked)
		} else {
			blockLoop(k.Rows)
		}
	}
	if k.Paired {
		Comment("The first rows/2 rows, each with its twin rows/2 rows on.")
		odd, oddRow := i.Label("odd"), AllocLocal(8)
		MOVQ(eRows, rTmp)
		ANDQ(U8(1), rTmp)
		MOVQ(rTmp, oddRow)
		SHRQ(U8(1), eRows)
		MOVQ(eRows, rTmp)
		IMULQ(eLd, rTmp)
		MOVQ(rTmp, pairOff)
		TESTQ(eRows, eRows)
		JZ(LabelRef(odd))
		paired = true
		walk()
		paired = false
		Label(odd)
		Comment("The last row of an odd count, alone.")
		CMPQ(oddRow, U8(0))
		JE(LabelRef(done))
		Load(Param("x").Base(), eX)
		ADDQ(pairOff, eX)
		ADDQ(pairOff, eX)
		MOVQ(U32(1), eRows)
	}
	walk()

	Label(done)
	if k.NT {
		SFENCE()
	}
	VZEROUPPER()
	RET()
}
