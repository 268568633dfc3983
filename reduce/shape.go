package reduce

import "fmt"

// Layout says where the channel axis of a batch lies.
type Layout int

const (
	// ChannelsFirst: element (n, c, s) at (n*C + c)*S + s (NC, NCL, NCHW, NCDHW).
	ChannelsFirst Layout = iota
	// ChannelsLast: element (n, c, s) at (n*S + s)*C + c (NLC, NHWC, NDHWC).
	ChannelsLast
)

func (l Layout) String() string {
	switch l {
	case ChannelsFirst:
		return "ChannelsFirst"
	case ChannelsLast:
		return "ChannelsLast"
	}
	return fmt.Sprintf("Layout(%d)", int(l))
}

// Shape names a batch of N samples with C channels of S positions each,
// stored in one contiguous float32 slice of length N*C*S.
type Shape struct {
	N, C, S int
	Layout  Layout
}

// M is the number of values of each channel, N*S.
func (s Shape) M() int { return s.N * s.S }

// Len is the number of elements, N*C*S.
func (s Shape) Len() int { return s.N * s.C * s.S }

// rowMajor reports whether the batch is processed as rows of C channels:
// channels last, and channels first with S == 1, which has the same memory
// order (a plain [N, C] batch).
func (s Shape) rowMajor() bool { return s.Layout == ChannelsLast || s.S == 1 }

// rows is the number of rows of C values when rowMajor.
func (s Shape) rows() int { return s.N * s.S }
