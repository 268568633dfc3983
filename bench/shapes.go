// Package bench measures simdbn against Go's copy() of the same data.
//
// It holds what the benchmarks (bench_test.go) and the command
// bench/cmd/bnbench share: the table of shapes, the ops and layouts, the
// buffers, one Kernel per (op, layout, shape, impl), the interleaved timing
// against copy(), and the handwritten float64 reference "naive-f64"
// (naive.go).
//
// Byte convention: an op is charged the bytes of the tensors it must stream
// once, whatever passes it really makes: 8 B per element for train and
// infer (read x, write y), 12 B per element for backward (read x and dy,
// write dx), 8 B per element for copy (read src, write dst). The small
// per-channel vectors are not counted. So GB/s is comparable between ops and
// with copy, and a train that makes two passes over x shows as a lower GB/s,
// not a higher one.
package bench

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/simdbn/simdbn/bn"
)

// Dims is a named batch size: N samples of C channels of S positions.
type Dims struct {
	Name    string // as written, e.g. "32x64x56x56" or "256x1024"
	N, C, S int
}

// Len is the number of elements, N*C*S.
func (d Dims) Len() int { return d.N * d.C * d.S }

// Bytes is the size of one tensor of this shape in bytes.
func (d Dims) Bytes() int64 { return int64(d.Len()) * 4 }

// Shape is the bn.Shape of d in layout l.
func (d Dims) Shape(l bn.Layout) bn.Shape { return bn.Shape{N: d.N, C: d.C, S: d.S, Layout: l} }

// Shapes is the default table, used by the benchmarks and by bnbench.
//
//	32x64x56x56     ResNet early stage, 25.7 MB: larger than cache
//	64x128x56x56    a large activation, 103 MB
//	8x512x7x7       ResNet late stage, 0.8 MB: cache-resident, short runs (S = 49)
//	256x1024        a plain [N, C] batch (S = 1), 1 MB
//	16x32x112x112   few channels with long runs (S = 12544), 25.7 MB
//	8x256x28x28     a mid-size batch, 6.4 MB: about the size of a last-level cache
var Shapes = MustParseShapes("32x64x56x56,64x128x56x56,8x512x7x7,256x1024,16x32x112x112,8x256x28x28")

// ParseShape reads "NxCxD1x...xDk": the first number is N, the second C,
// the rest multiply into S (S = 1 when there is none).
func ParseShape(s string) (Dims, error) {
	s = strings.TrimSpace(s)
	parts := strings.Split(s, "x")
	if len(parts) < 2 {
		return Dims{}, fmt.Errorf("shape %q: want N x C followed by any spatial sizes, e.g. 256x1024 or 32x64x56x56", s)
	}
	d := Dims{Name: s, S: 1}
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v <= 0 {
			return Dims{}, fmt.Errorf("shape %q: %q is not a positive integer", s, p)
		}
		switch i {
		case 0:
			d.N = v
		case 1:
			d.C = v
		default:
			d.S *= v
		}
		if int64(d.N)*int64(d.C)*int64(d.S) > 1<<33 {
			return Dims{}, fmt.Errorf("shape %q: too large", s)
		}
	}
	return d, nil
}

// ParseShapes reads a comma-separated list of shapes.
func ParseShapes(list string) ([]Dims, error) {
	var out []Dims
	for _, f := range strings.Split(list, ",") {
		if strings.TrimSpace(f) == "" {
			continue
		}
		d, err := ParseShape(f)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no shape in %q", list)
	}
	return out, nil
}

// MustParseShapes is ParseShapes that panics on a bad list.
func MustParseShapes(list string) []Dims {
	d, err := ParseShapes(list)
	if err != nil {
		panic(err)
	}
	return d
}

// MaxLen is the largest number of elements among shapes.
func MaxLen(shapes []Dims) int {
	m := 0
	for _, d := range shapes {
		m = max(m, d.Len())
	}
	return m
}

// SweepShapes returns the shapes of the size sweep: N=8, C=64 and S a power
// of two, so the tensor grows by doubling from minBytes to maxBytes
// (rounded to powers of two, at least 8*64 elements).
func SweepShapes(minBytes, maxBytes int64) []Dims {
	const n, c = 8, 64
	var out []Dims
	for b := int64(n * c * 4); b <= maxBytes; b *= 2 {
		if b < minBytes {
			continue
		}
		s := int(b / (n * c * 4))
		out = append(out, Dims{Name: fmt.Sprintf("%dx%dx%d", n, c, s), N: n, C: c, S: s})
	}
	return out
}

// Layouts are the two layouts by their benchmark names.
var Layouts = []struct {
	Name   string
	Layout bn.Layout
}{
	{"nchw", bn.ChannelsFirst},
	{"nhwc", bn.ChannelsLast},
}

// ParseLayout turns "nchw" or "nhwc" (also "cf"/"cl", "first"/"last") into a
// bn.Layout.
func ParseLayout(s string) (bn.Layout, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "nchw", "cf", "first", "channelsfirst":
		return bn.ChannelsFirst, nil
	case "nhwc", "cl", "last", "channelslast":
		return bn.ChannelsLast, nil
	}
	return 0, fmt.Errorf("layout %q: want nchw or nhwc", s)
}

// LayoutName is the benchmark name of a layout: "nchw" or "nhwc".
func LayoutName(l bn.Layout) string {
	if l == bn.ChannelsLast {
		return "nhwc"
	}
	return "nchw"
}

// Op is one of the measured operations.
type Op string

const (
	Train    Op = "train"    // BatchNorm.Train with saved statistics
	Infer    Op = "infer"    // BatchNorm.Infer
	Backward Op = "backward" // BatchNorm.Backward with dgamma and dbeta
	// Stats is reduce.MeanVar: the statistics alone, one read of x. It is
	// the read-only pass that bounds the others: train must read x at
	// least once, and copy() reads it once and writes it once.
	Stats Op = "stats"
	// Stats2 is reduce.MeanVar of x, then of dy: Backward's two inputs read
	// once each, the read-only pass that bounds Backward.
	Stats2 Op = "stats2"
)

// Ops are the operations in table order.
var Ops = []Op{Train, Infer, Backward, Stats, Stats2}

// ParseOp checks an op name.
func ParseOp(s string) (Op, error) {
	for _, o := range Ops {
		if string(o) == strings.TrimSpace(s) {
			return o, nil
		}
	}
	return "", fmt.Errorf("op %q: want train, infer, backward, stats or stats2", s)
}

// BytesPerElem is the byte convention of the package documentation: 8 for
// train and infer, 12 for backward, 4 for stats (read x), 8 for stats2
// (read x and dy).
func (o Op) BytesPerElem() int64 {
	switch o {
	case Backward:
		return 12
	case Stats:
		return 4
	}
	return 8
}

// CopyBytesPerElem is what copy() is charged: read 4 B, write 4 B.
const CopyBytesPerElem = 8
