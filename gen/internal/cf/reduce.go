package cf

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// StatsCF generates statsCF<ISA>, the form of fallback.StatsCF.
func StatsCF(isa ISA) { reduction(isa, false) }

// BackwardCF generates backwardCF<ISA>, the form of fallback.BackwardCF.
func BackwardCF(isa ISA) { reduction(isa, true) }

// reduction emits StatsCF (backward false) or BackwardCF (backward true).
//
// Lane l of the 32 float32 lanes is element l%W of vector l/W of each
// quantity (2 zmm or 4 ymm per quantity), so a 32-value block of a run
// feeds every lane once, in order. The float64 lanes stay in acc (memory)
// and are only touched by a flush.
func reduction(isa ISA, backward bool) {
	var name, sig, scalar string
	var nq int
	if backward {
		name, scalar, nq = "backwardCF"+isa.Suffix, "mean", 3
		sig = "func(acc []float64, dy, x []float32, nruns, runLen, stride, group int, mean float32)"
	} else {
		name, scalar, nq = "statsCF"+isa.Suffix, "pivot", 2
		sig = "func(acc []float64, x []float32, nruns, runLen, stride, group int, pivot float32)"
	}
	var tab Mem
	if backward {
		tab = maskTable(isa, "backwardCF")
	} else {
		tab = maskTable(isa, "statsCF")
	}

	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	if backward {
		Doc(name+" is the "+isa.Suffix+" form of fallback.BackwardCF, with the same bits.",
			"It requires nruns, runLen, group >= 1 and len(acc) >= 96.")
	} else {
		Doc(name+" is the "+isa.Suffix+" form of fallback.StatsCF, with the same bits.",
			"It requires nruns, runLen, group >= 1 and len(acc) >= 64.")
	}

	acc := Mem{Base: Load(Param("acc").Base(), GP64())}
	xBase := Load(Param("x").Base(), GP64())
	bases := []Register{xBase}
	var dyBase Register
	if backward {
		dyBase = Load(Param("dy").Base(), GP64())
		bases = append(bases, dyBase)
	}
	nruns := Load(Param("nruns"), GP64())
	stride := Load(Param("stride"), GP64())
	SHLQ(U8(2), stride)
	gcount := Load(Param("group"), GP64())

	sc := isa.Vec()
	VBROADCASTSS(paramAddr(scalar), sc)

	nv := Lanes / isa.W
	accs := make([][]VecVirtual, nq)
	for q := range accs {
		accs[q] = make([]VecVirtual, nv)
		for v := range accs[q] {
			accs[q][v] = isa.Vec()
			isa.zero(accs[q][v])
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
	// 1..31), the rest add +0.
	body := func(masked bool) {
		var ks []Register
		var negt GPVirtual
		var tb Mem
		if masked {
			tb = Mem{Base: GP64()}
			LEAQ(tab, tb.Base)
			if isa.Z {
				for v := 0; v < nv; v++ {
					k := K()
					KMOVW(tb.Idx(n, 4).Offset(2*v), k)
					ks = append(ks, k)
				}
			} else {
				negt = GP64()
				MOVQ(n, negt)
				NEGQ(negt)
			}
		}
		for v := 0; v < nv; v++ {
			off := v * isa.Bytes()
			d := isa.Vec()
			var m VecVirtual // AVX2 mask
			switch {
			case !masked:
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
			// The first source of each commutative operation is the one
			// the Go compiler picks for fallback.BackwardCF, which differs
			// between its main loop and its tail loop; it only shows when
			// both operands are NaNs with different payloads.
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
	}

	// flush adds the float32 lanes to acc as float64 and clears them.
	flush := func() {
		Comment("Flush: acc64[l] += float64(acc32[l]); acc32[l] = 0.")
		half := isa.W / 2
		for q := 0; q < nq; q++ {
			for v := 0; v < nv; v++ {
				a := accs[q][v]
				lo := acc.Offset(8 * (q*Lanes + v*isa.W))
				hi := lo.Offset(8 * half)
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
		}
	}

	Label(lbl(name, "run"))
	for i := range ptrs {
		MOVQ(bases[i], ptrs[i])
	}
	MOVQ(paramAddr("runLen"), rem)

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

	Label(lbl(name, "block"))
	body(false)
	for _, p := range ptrs {
		ADDQ(U8(4*Lanes), p)
	}
	DECQ(blocks)
	JNZ(LabelRef(lbl(name, "block")))

	Label(lbl(name, "tail"))
	ANDQ(U8(Lanes-1), n)
	JZ(LabelRef(lbl(name, "segend")))
	Comment("Tail of the run: the first n lanes.")
	body(true)

	Label(lbl(name, "segend"))
	TESTQ(rem, rem)
	JZ(LabelRef(lbl(name, "runend")))
	Comment("The segment does not end its run.")
	flush()
	JMP(LabelRef(lbl(name, "segment")))

	Label(lbl(name, "runend"))
	DECQ(nruns)
	JZ(LabelRef(lbl(name, "last")))
	DECQ(gcount)
	JNZ(LabelRef(lbl(name, "next")))
	Comment("(r+1) % group == 0")
	MOVQ(paramAddr("group"), gcount)
	flush()

	Label(lbl(name, "next"))
	for _, b := range bases {
		ADDQ(stride, b)
	}
	JMP(LabelRef(lbl(name, "run")))

	Label(lbl(name, "last"))
	flush()
	VZEROUPPER()
	RET()
}
