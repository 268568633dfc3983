package bn

import (
	"math"
	"unsafe"

	"github.com/simdbn/simdbn/reduce"
)

// Every check runs before anything is written: a call that returns an
// error has changed no output, statistic or running statistic.

type named struct {
	name string
	s    []float32
}

// checkShape validates the shape and returns N*C*S.
func checkShape(s Shape) (int, error) {
	if s.Layout != ChannelsFirst && s.Layout != ChannelsLast {
		return 0, errorf(ErrLayout, "Shape.Layout = %d, want ChannelsFirst (0) or ChannelsLast (1)", int(s.Layout))
	}
	if s.N < 0 || s.C < 0 || s.S < 0 {
		return 0, errorf(ErrShape, "Shape{N: %d, C: %d, S: %d} has a negative size", s.N, s.C, s.S)
	}
	n, ok := reduce.Product(s.N, s.C, s.S)
	if !ok {
		return 0, errorf(ErrShape, "N*C*S = %d*%d*%d overflows int", s.N, s.C, s.S)
	}
	return n, nil
}

func checkLen(name string, v []float32, want int, what string) error {
	if len(v) != want {
		return errorf(ErrLength, "len(%s) = %d, want %s = %d", name, len(v), what, want)
	}
	return nil
}

// checkOptional checks a per-channel slice that may be nil.
func checkOptional(name string, v []float32, C int) error {
	if v == nil {
		return nil
	}
	return checkLen(name, v, C, "C")
}

func checkEps(eps float32) error {
	e := float64(eps)
	if math.IsNaN(e) || math.IsInf(e, 0) || e < 0 {
		return errorf(ErrEps, "Eps = %v, want finite and >= 0", eps)
	}
	return nil
}

func checkMomentum(m float32) error {
	if !(m >= 0 && m <= 1) {
		return errorf(ErrMomentum, "Momentum = %v, want in [0, 1]", m)
	}
	return nil
}

// bounds returns the byte range of a slice's elements.
func bounds(v []float32) (lo, hi uintptr) {
	if len(v) == 0 {
		return 0, 0
	}
	lo = uintptr(unsafe.Pointer(unsafe.SliceData(v)))
	return lo, lo + uintptr(len(v))*4
}

func overlap(a, b []float32) bool {
	alo, ahi := bounds(a)
	blo, bhi := bounds(b)
	return alo < bhi && blo < ahi
}

func identical(a, b []float32) bool {
	return len(a) == len(b) && len(a) > 0 && unsafe.SliceData(a) == unsafe.SliceData(b)
}

// checkAliasing rejects outputs that overlap each other, and outputs that
// overlap an input without being the very same slice.
func checkAliasing(outs, ins []named) error {
	for i, o := range outs {
		for _, p := range outs[i+1:] {
			if overlap(o.s, p.s) {
				return errorf(ErrOverlap, "outputs %s and %s overlap", o.name, p.name)
			}
		}
		for _, in := range ins {
			if overlap(o.s, in.s) && !identical(o.s, in.s) {
				return errorf(ErrOverlap, "output %s partly overlaps input %s (an output may only be the very same slice as an input of the same length)", o.name, in.name)
			}
		}
	}
	return nil
}

func (b *BatchNorm) checkParams(C int) error {
	if err := checkOptional("Gamma", b.Gamma, C); err != nil {
		return err
	}
	if err := checkOptional("Beta", b.Beta, C); err != nil {
		return err
	}
	if err := checkOptional("RunningMean", b.RunningMean, C); err != nil {
		return err
	}
	return checkOptional("RunningVar", b.RunningVar, C)
}

func (b *BatchNorm) checkTrain(y, x []float32, s Shape, st *Stats) error {
	if b == nil {
		return errorf(ErrNil, "Train on a nil *BatchNorm")
	}
	n, err := checkShape(s)
	if err != nil {
		return err
	}
	if err := checkLen("x", x, n, "N*C*S"); err != nil {
		return err
	}
	if err := checkLen("y", y, n, "N*C*S"); err != nil {
		return err
	}
	if m := s.N * s.S; m < 2 {
		return errorf(ErrTooFewValues, "N*S = %d values per channel, want at least 2 in training", m)
	}
	if err := b.checkParams(s.C); err != nil {
		return err
	}
	var sm, sv, si []float32
	if st != nil {
		sm, sv, si = st.Mean, st.Var, st.InvStd
		if err := checkOptional("st.Mean", sm, s.C); err != nil {
			return err
		}
		if err := checkOptional("st.Var", sv, s.C); err != nil {
			return err
		}
		if err := checkOptional("st.InvStd", si, s.C); err != nil {
			return err
		}
	}
	if err := checkEps(b.Eps); err != nil {
		return err
	}
	if err := checkMomentum(b.Momentum); err != nil {
		return err
	}
	outs := [...]named{{"y", y}, {"st.Mean", sm}, {"st.Var", sv}, {"st.InvStd", si},
		{"RunningMean", b.RunningMean}, {"RunningVar", b.RunningVar}}
	ins := [...]named{{"x", x}, {"Gamma", b.Gamma}, {"Beta", b.Beta}}
	return checkAliasing(outs[:], ins[:])
}

func (b *BatchNorm) checkInfer(y, x []float32, s Shape) error {
	if b == nil {
		return errorf(ErrNil, "Infer on a nil *BatchNorm")
	}
	n, err := checkShape(s)
	if err != nil {
		return err
	}
	if err := checkLen("x", x, n, "N*C*S"); err != nil {
		return err
	}
	if err := checkLen("y", y, n, "N*C*S"); err != nil {
		return err
	}
	if b.RunningMean == nil || b.RunningVar == nil {
		return errorf(ErrNoRunningStats, "Infer needs RunningMean and RunningVar (nil: %v, %v)", b.RunningMean == nil, b.RunningVar == nil)
	}
	if err := b.checkParams(s.C); err != nil {
		return err
	}
	if err := checkEps(b.Eps); err != nil {
		return err
	}
	outs := [...]named{{"y", y}}
	ins := [...]named{{"x", x}, {"Gamma", b.Gamma}, {"Beta", b.Beta},
		{"RunningMean", b.RunningMean}, {"RunningVar", b.RunningVar}}
	return checkAliasing(outs[:], ins[:])
}

func (b *BatchNorm) checkBackward(dx, dgamma, dbeta, dy, x []float32, s Shape, st *Stats) error {
	if b == nil {
		return errorf(ErrNil, "Backward on a nil *BatchNorm")
	}
	n, err := checkShape(s)
	if err != nil {
		return err
	}
	if err := checkLen("x", x, n, "N*C*S"); err != nil {
		return err
	}
	if err := checkLen("dy", dy, n, "N*C*S"); err != nil {
		return err
	}
	if err := checkLen("dx", dx, n, "N*C*S"); err != nil {
		return err
	}
	if m := s.N * s.S; m < 2 {
		return errorf(ErrTooFewValues, "N*S = %d values per channel, want at least 2 in training", m)
	}
	if err := checkOptional("Gamma", b.Gamma, s.C); err != nil {
		return err
	}
	if err := checkOptional("dgamma", dgamma, s.C); err != nil {
		return err
	}
	if err := checkOptional("dbeta", dbeta, s.C); err != nil {
		return err
	}
	if err := checkEps(b.Eps); err != nil {
		return err
	}
	if st == nil {
		return errorf(ErrStats, "Backward needs the Stats that Train saved, got nil")
	}
	if st.Mean == nil || st.InvStd == nil {
		return errorf(ErrStats, "Backward needs st.Mean and st.InvStd (nil: %v, %v)", st.Mean == nil, st.InvStd == nil)
	}
	if err := checkLen("st.Mean", st.Mean, s.C, "C"); err != nil {
		return err
	}
	if err := checkLen("st.InvStd", st.InvStd, s.C, "C"); err != nil {
		return err
	}
	outs := [...]named{{"dx", dx}, {"dgamma", dgamma}, {"dbeta", dbeta}}
	ins := [...]named{{"dy", dy}, {"x", x}, {"st.Mean", st.Mean}, {"st.InvStd", st.InvStd}, {"Gamma", b.Gamma}}
	return checkAliasing(outs[:], ins[:])
}
