package bench

import (
	"fmt"
	"sync"
	"testing"

	"github.com/klauspost/cpuid/v2"

	"github.com/simdbn/simdbn/bn"
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

// BenchmarkCopyEvicted shows how much of the reference's speed comes from
// the last-level cache: copy() of one buffer back to back (cache=warm: its
// source is what the last call read), and after copying other data of
// twice the last-level cache as CPUID reports it, at least 128 MB, outside
// the timer (cache=evicted: the source comes from memory). bench/compare
// times copy() several times in a row, and bnbench right after the op,
// which has just read the same x; so where a tensor fits the cache that
// copy() finds, and the op's own operands together do not, the ratio to
// copy() grows by the difference. On this project's Intel VM
// (three runs, 2026-12-07) 4 to 64 MB copied at 31-50 GB/s warm and 18-22
// evicted, 103 and 205 MB at 13-19 GB/s either way.
func BenchmarkCopyEvicted(b *testing.B) {
	other := make([]byte, max(128<<20, 2*cpuid.CPU.Cache.L3))
	for _, mb := range []int{4, 26, 32, 64, 103, 205} {
		n := mb << 20 / 4
		src, dst := make([]float32, n), make([]float32, n)
		copy(dst, src) // fault the pages in
		for _, evict := range []bool{false, true} {
			name := "warm"
			if evict {
				name = "evicted"
			}
			b.Run(fmt.Sprintf("bytes=%dMB/cache=%s", mb, name), func(b *testing.B) {
				b.SetBytes(int64(8 * n))
				for b.Loop() {
					if evict {
						b.StopTimer()
						copy(other[len(other)/2:], other[:len(other)/2])
						b.StartTimer()
					}
					copy(dst, src)
				}
			})
		}
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

// BenchmarkPlacement shows how much the two-goroutine speed-up of a
// cache-resident batch depends on where the operands lie relative to each
// other: Train and Backward of 8x512x7x7 channels first (the fastest tier)
// on one and two goroutines, with x, y, dy and dx in one allocation, each
// gap bytes after the one before. On this project's VM (2026-12-07, three
// runs, bench.Handoff's round trip 0.42-0.49 us) one goroutine took the
// same time at every gap (Train 37-48 us, Backward 55-68), while two took
// 22-38 us (Train) and 39-44 (Backward) at gaps of 784 KB (the tensor's
// own size, where consecutive allocations of it lie) and 2 MB, but 65-67
// and 65-69 at 1 MB, slower than one goroutine. Temporary sweeps in
// reduce gave a period of 96 KB (784, 880 and 976 KB fast, 832, 928 and
// 1024 KB slow, fading past about 1.4 MB), the slow part being the
// normalization's ordinary stores (pprof). Splitting the batch by samples
// instead of channels moved the slow gaps (784 KB slow, 1 MB fast) but did
// not remove them; non-temporal stores did (Train 26-28 us at all three
// gaps), at the cost of writing y to memory, where the next layer would
// have to fetch it. bnbench allocates
// its buffers at the size of the largest shape asked for, so its gaps are
// that size: -shapes 8x512x7x7,256x1024 puts them 1 MB apart.
func BenchmarkPlacement(b *testing.B) {
	d := MustParseShapes("8x512x7x7")[0]
	n := d.Len()
	impl := Impls()[0]
	for _, gapKB := range []int{784, 1024, 2048} {
		gap := gapKB << 10 / 4
		all := NewBuffers(3*gap + n).X
		buf := &Buffers{X: all[:n], Y: all[gap : gap+n], DY: all[2*gap : 2*gap+n], DX: all[3*gap : 3*gap+n]}
		for _, op := range []Op{Train, Backward} {
			for _, g := range []int{1, 2} {
				name := fmt.Sprintf("op=%s/layout=nchw/shape=%s/impl=%s/gap=%dKB/goroutines=%d", op, d.Name, impl, gapKB, g)
				b.Run(name, func(b *testing.B) {
					k, err := NewKernel(buf, op, d, bn.ChannelsFirst, impl, g)
					if err != nil {
						b.Fatal(err)
					}
					defer k.Close()
					b.SetBytes(k.Bytes)
					for b.Loop() {
						if err := k.Run(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
