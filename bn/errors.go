package bn

import (
	"errors"
	"fmt"

	"github.com/simdbn/simdbn/reduce"
)

// The sentinel errors; every error of this package wraps one of them, for
// errors.Is, and its text names the argument and the numbers.
var (
	ErrNil            = errors.New("nil BatchNorm")
	ErrShape          = errors.New("invalid shape")
	ErrLayout         = errors.New("unknown layout")
	ErrLength         = errors.New("slice length does not match the shape")
	ErrTooFewValues   = errors.New("fewer than 2 values per channel in training")
	ErrNoRunningStats = errors.New("inference without running statistics")
	ErrStats          = errors.New("missing saved statistics")
	ErrEps            = errors.New("invalid Eps")
	ErrMomentum       = errors.New("invalid Momentum")
	ErrOverlap        = errors.New("slices partly overlap")
	ErrImpl           = reduce.ErrImpl
)

// argError is an error whose text names the argument and the numbers and
// which wraps a sentinel.
type argError struct {
	msg  string
	kind error
}

func (e *argError) Error() string { return e.msg }
func (e *argError) Unwrap() error { return e.kind }

func errorf(kind error, format string, args ...any) error {
	return &argError{msg: "bn: " + fmt.Sprintf(format, args...), kind: kind}
}
