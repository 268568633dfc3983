package asm_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdbn/simdbn/asm"
)

// clFuzzTiers returns the available tiers without skipping (a fuzz target
// with no tier just checks nothing).
func clFuzzTiers() []asm.Impl {
	var ims []asm.Impl
	for _, im := range asm.Impls() {
		if im.Available && im.StatsCL != nil {
			ims = append(ims, im)
		}
	}
	return ims
}

// clFuzzShape turns fuzz inputs into a bounded shape.
func clFuzzShape(rows, C uint16, mis uint8, offset float32, special bool) clShape {
	// Keep the data finite: an infinite pivot would give x - pivot = NaN
	// alongside the NaN of the data (see clFill).
	o := float64(offset)
	if math.IsNaN(o) || math.IsInf(o, 0) {
		o = 0
	}
	o = math.Mod(o, 1e7)
	// mis's high bits choose a gap between rows (0 for the first seeds).
	return clShape{rows: 1 + int(rows)%600, C: 1 + int(C)%300, gap: int(mis/16) % 8 * 3, mis: int(mis) % 16, offset: float32(o), special: special}
}

func clFuzzSeeds(f *testing.F) {
	f.Add(uint64(1), uint16(0), uint16(0), uint8(0), float32(0), false)
	f.Add(uint64(2), uint16(128), uint16(16), uint8(3), float32(1e6), true)
	f.Add(uint64(3), uint16(129), uint16(17), uint8(15), float32(-3), true)
	f.Add(uint64(4), uint16(3), uint16(63), uint8(7), float32(1e3), false)
	f.Add(uint64(5), uint16(257), uint16(100), uint8(1), float32(0.5), true)
	f.Add(uint64(6), uint16(40), uint16(2), uint8(9), float32(1e6), false)
	f.Add(uint64(7), uint16(130), uint16(64), uint8(16+5), float32(1e4), true)
	f.Add(uint64(8), uint16(9), uint16(33), uint8(7*16+2), float32(-2), false)
}

func FuzzStatsCL(f *testing.F) {
	clFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, seed uint64, rows, C uint16, mis uint8, offset float32, special bool) {
		s := clFuzzShape(rows, C, mis, offset, special)
		for _, im := range clFuzzTiers() {
			clCheckReduce(t, im, s, rand.New(rand.NewPCG(seed, 1)))
		}
	})
}

// FuzzBackwardCL shares clCheckReduce with FuzzStatsCL (it checks both
// reductions) but draws its own data.
func FuzzBackwardCL(f *testing.F) {
	clFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, seed uint64, rows, C uint16, mis uint8, offset float32, special bool) {
		s := clFuzzShape(rows, C, mis, offset, special)
		for _, im := range clFuzzTiers() {
			clCheckReduce(t, im, s, rand.New(rand.NewPCG(seed, 2)))
		}
	})
}

// FuzzApplyCL checks ApplyCL and BackwardApplyCL, out of place and in place.
func FuzzApplyCL(f *testing.F) {
	clFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, seed uint64, rows, C uint16, mis uint8, offset float32, special bool) {
		s := clFuzzShape(rows, C, mis, offset, special)
		for _, im := range clFuzzTiers() {
			clCheckElem(t, im, s, rand.New(rand.NewPCG(seed, 3)))
		}
	})
}

func FuzzBackwardApplyCL(f *testing.F) {
	clFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, seed uint64, rows, C uint16, mis uint8, offset float32, special bool) {
		s := clFuzzShape(rows, C, mis, offset, special)
		for _, im := range clFuzzTiers() {
			clCheckElem(t, im, s, rand.New(rand.NewPCG(seed, 4)))
		}
	})
}
