package bench

import (
	"sync"
	"testing"
)

// buffers holds the operands of every benchmark, allocated and filled once
// at the size of the largest shape in Shapes, outside any timed loop.
var buffers = sync.OnceValue(func() *Buffers { return NewBuffers(MaxLen(Shapes)) })

// BenchmarkBN measures every op, layout, shape and implementation of
// Impls() (bn.Impls() and the handwritten naive-f64). Names are key=value,
// for example BenchmarkBN/op=train/layout=nchw/shape=32x64x56x56/impl=avx512,
// so that benchstat can pivot with -col /impl. SetBytes follows the package
// convention: 8 B per element for train and infer, 12 for backward.
func BenchmarkBN(b *testing.B) {
	for _, op := range Ops {
		b.Run("op="+string(op), func(b *testing.B) {
			for _, l := range Layouts {
				b.Run("layout="+l.Name, func(b *testing.B) {
					for _, d := range Shapes {
						b.Run("shape="+d.Name, func(b *testing.B) {
							for _, impl := range Impls() {
								b.Run("impl="+impl, func(b *testing.B) {
									k, err := NewKernel(buffers(), op, d, l.Layout, impl, 1)
									if err != nil {
										b.Fatal(err)
									}
									defer k.Close()
									b.SetBytes(k.Bytes)
									b.ReportAllocs()
									for b.Loop() {
										if err := k.Run(); err != nil {
											b.Fatal(err)
										}
									}
								})
							}
						})
					}
				})
			}
		})
	}
}

// BenchmarkCopy is the reference: Go's copy() of one tensor of each shape,
// charged 8 B per element (read and write).
func BenchmarkCopy(b *testing.B) {
	for _, d := range Shapes {
		b.Run("shape="+d.Name, func(b *testing.B) {
			f := buffers().Copy(d.Len())
			b.SetBytes(CopyBytesPerElem * int64(d.Len()))
			b.ReportAllocs()
			for b.Loop() {
				f()
			}
		})
	}
}
