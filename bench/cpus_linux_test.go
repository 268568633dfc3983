package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/simdbn/simdbn/bn"
)

// BenchmarkPinnedCPU runs the same one-goroutine work with its thread
// pinned to each CPU the process may use in turn: copy() of 256 KB (source
// plus destination, cache-resident) and a Train of 8x512x7x7 channels first
// on the default implementation. On a virtual machine the CPUs need not be
// equally fast (a host thread may share a physical core with another
// guest), and a call split into equal halves on two goroutines then waits
// for the slower one: compare the cpu= results with each other before
// reading a two-goroutine speed-up.
//
//	go test -run '^$' -bench PinnedCPU -count 3 ./bench/
func BenchmarkPinnedCPU(b *testing.B) {
	var allowed unix.CPUSet
	if err := unix.SchedGetaffinity(0, &allowed); err != nil {
		b.Skip("no CPU affinity here:", err)
	}
	s := bn.Shape{N: 8, C: 512, S: 49}
	n := s.N * s.C * s.S
	x, y := make([]float32, n), make([]float32, n)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	src, dst := make([]float32, 32<<10), make([]float32, 32<<10)
	norm := bn.New(s.C)
	for cpu := range 64 {
		if !allowed.IsSet(cpu) {
			continue
		}
		pinned := func(b *testing.B, work func()) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var one unix.CPUSet
			one.Set(cpu)
			if err := unix.SchedSetaffinity(0, &one); err != nil {
				b.Skip("cannot pin:", err)
			}
			// The thread goes back to every allowed CPU before it is
			// unlocked, so that no other goroutine inherits the pin.
			defer unix.SchedSetaffinity(0, &allowed)
			work() // warm the caches on this CPU
			b.ResetTimer()
			for b.Loop() {
				work()
			}
		}
		b.Run(fmt.Sprintf("work=copy256KB/cpu=%d", cpu), func(b *testing.B) {
			b.SetBytes(int64(8 * len(src)))
			pinned(b, func() { copy(dst, src) })
		})
		b.Run(fmt.Sprintf("work=train8x512x7x7/cpu=%d", cpu), func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			pinned(b, func() {
				if err := norm.Train(y, x, s, nil); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
