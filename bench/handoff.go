package bench

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Handoff returns the median, over batches of rounds each, of one round
// trip between two goroutines that poll: the caller stores a counter and
// waits until a second goroutine, polling it, has stored it back. With
// GOMAXPROCS of 2 or more the two run on different cores, so this is what
// one cache line written by one core and read by the other costs, there
// and back. It returns 0 when GOMAXPROCS is 1.
//
// On a virtual machine it can change from minute to minute with where the
// host places the virtual CPUs, and with it what a call split over two
// goroutines gains on a tensor that fits in cache (README: Two
// goroutines). bnbench -goroutines 2 reports it before and after its
// cases.
func Handoff(rounds, batches int) time.Duration {
	if runtime.GOMAXPROCS(0) < 2 || rounds < 1 || batches < 1 {
		return 0
	}
	var ping, pong atomic.Uint64
	const quit = ^uint64(0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var last uint64
		for {
			v := ping.Load()
			if v == quit {
				return
			}
			if v != last {
				last = v
				pong.Store(v)
			}
		}
	}()
	per := make([]float64, batches)
	var n uint64
	for b := range per {
		t0 := time.Now()
		for range rounds {
			n++
			ping.Store(n)
			for pong.Load() != n {
			}
		}
		per[b] = float64(time.Since(t0)) / float64(rounds)
	}
	ping.Store(quit)
	<-done
	return time.Duration(Median(per))
}
