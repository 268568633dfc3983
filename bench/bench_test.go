package bench

import (
	"fmt"
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

// BenchmarkTwoCores is the machine's control for the two-goroutine
// numbers: copy() between private buffers (bytes is each goroutine's
// source plus destination), on one goroutine and on two at once, nothing
// shared. SetBytes counts every goroutine's 8 B per element, so the GB/s
// of goroutines=2 over that of goroutines=1 is what this machine gives two
// independent streams of the same work at that moment: a ceiling for the
// two-goroutine speed-up of bnbench -goroutines 2.
func BenchmarkTwoCores(b *testing.B) {
	for _, kb := range []int{256, 1024, 64 << 10} {
		for _, g := range []int{1, 2} {
			b.Run(fmt.Sprintf("bytes=%dKB/goroutines=%d", kb, g), func(b *testing.B) {
				n := kb << 10 / 8
				src, dst := make([][]float32, g), make([][]float32, g)
				for w := range g {
					src[w], dst[w] = make([]float32, n), make([]float32, n)
					copy(dst[w], src[w]) // fault the pages in
				}
				b.SetBytes(int64(g * 8 * n))
				b.ResetTimer()
				var wg sync.WaitGroup
				for w := range g {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range b.N {
							copy(dst[w], src[w])
						}
					}()
				}
				wg.Wait()
			})
		}
	}
}
