package cf

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// StatsApplyCF generates statsApplyCFNT<ISA>, the form of
// fallback.StatsApplyCF: the statistics of one run and the normalization
// of another, in one loop. A core that streams a tensor from memory
// through one kernel call and then writes another through the next keeps
// only one direction busy at a time; with the loads of one and the
// non-temporal stores of the other in the same loop, both go at once.
// Measured with a scratch kernel of the same shape (25.7 MB read from
// memory, 25.7 MB written non-temporally from a 4 MB source in the
// last-level cache): 1.67 ms fused, against 2.21 ms for the two loops one
// after the other and 1.45 ms for copy().
func StatsApplyCF(isa ISA) {
	name := "statsApplyCFNT" + isa.Suffix
	tab := maskTable(isa, "statsApplyCFNT")
	TEXT(name, NOSPLIT, "func(acc []float64, x []float32, pivot float32, y, xa []float32, p []float32)")
	Pragma("noescape")
	Doc(name+" is the "+isa.Suffix+" form of fallback.StatsApplyCF, with the same bits.",
		fmt.Sprintf("It stores full vectors of y non-temporally: y must start %d-byte aligned.", isa.Bytes()))

	acc := Mem{Base: Load(Param("acc").Base(), GP64())}
	px := Mem{Base: Load(Param("x").Base(), GP64())}
	py := Mem{Base: Load(Param("y").Base(), GP64())}
	pa := Mem{Base: Load(Param("xa").Base(), GP64())}
	pp := Load(Param("p").Base(), GP64())
	rem := Load(Param("x").Len(), GP64())
	TESTQ(rem, rem)
	JZ(LabelRef(lbl(name, "done")))

	sc := isa.Vec()
	VBROADCASTSS(paramAddr("pivot"), sc)
	par := make([]VecVirtual, 4)
	for i := range par {
		par[i] = isa.Vec()
		VBROADCASTSS(Mem{Base: pp, Disp: 4 * i}, par[i])
	}
	nv := Lanes / isa.W
	accs := make([][]VecVirtual, 2)
	for q := range accs {
		accs[q] = make([]VecVirtual, nv)
		for v := range accs[q] {
			accs[q][v] = isa.Vec()
			isa.zero(accs[q][v])
		}
	}
	n, blocks := GP64(), GP64()

	// body feeds one 32-lane block of x to the statistics and normalizes
	// the same 32 positions of xa into y. masked: the first n values only
	// (1..31); the statistics' other lanes add +0 and the other positions
	// of y are not written.
	body := func(masked bool) {
		var ks []Register
		var negt GPVirtual
		var tb Mem
		if masked {
			ks, negt, tb = isa.blockMasks(tab, n, nv)
		}
		for v := 0; v < nv; v++ {
			off := v * isa.Bytes()
			d, t := isa.Vec(), isa.Vec()
			var m VecVirtual // AVX2 mask
			switch {
			case !masked:
				VMOVUPS(px.Offset(off), d)
				VMOVUPS(pa.Offset(off), t)
				VSUBPS(sc, d, d) // d = x - pivot
			case isa.Z:
				VMOVUPS_Z(px.Offset(off), ks[v], d)
				VMOVUPS_Z(pa.Offset(off), ks[v], t)
				VSUBPS_Z(sc, d, ks[v], d)
			default:
				m = isa.Vec()
				VMOVDQU(tb.Idx(negt, 4).Offset(4*Lanes+off), m)
				VMASKMOVPS(px.Offset(off), m, d)
				VMASKMOVPS(pa.Offset(off), m, t)
				VSUBPS(sc, d, d)
				VANDPS(m, d, d)
			}
			s, q := accs[0][v], accs[1][v]
			VADDPS(d, s, s) // s = s + d
			VMULPS(d, d, d)
			VADDPS(d, q, q)      // q = q + d*d
			VSUBPS(par[0], t, t) // t = xa - hi
			VSUBPS(par[1], t, t) // t -= lo
			VMULPS(par[2], t, t) // t*a
			VADDPS(par[3], t, t) // + b
			switch {
			case !masked:
				VMOVNTPS(t, py.Offset(off))
			case isa.Z:
				VMOVUPS(t, ks[v], py.Offset(off))
			default:
				VMASKMOVPS(t, m, py.Offset(off))
			}
		}
	}

	segment(name, rem, n, blocks, []Register{px.Base, py.Base, pa.Base}, body)
	isa.flushLanes(accs, acc)
	TESTQ(rem, rem)
	JNZ(LabelRef(lbl(name, "segment")))

	Label(lbl(name, "done"))
	SFENCE()
	VZEROUPPER()
	RET()
}
