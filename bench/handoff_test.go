package bench

import (
	"runtime"
	"testing"
)

// Handoff ends, and measures something, with two Ps; with one it returns
// 0 at once instead of waiting for a goroutine that cannot run alongside.
func TestHandoff(t *testing.T) {
	if runtime.GOMAXPROCS(0) >= 2 {
		if d := Handoff(1000, 3); d <= 0 {
			t.Fatalf("Handoff with GOMAXPROCS %d = %v, want a positive time", runtime.GOMAXPROCS(0), d)
		}
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	if d := Handoff(1000, 3); d != 0 {
		t.Fatalf("Handoff with GOMAXPROCS 1 = %v, want 0", d)
	}
}

// BenchmarkCoreHandoff times Handoff's round trip, b.N of them, and
// reports the median of its batch as ns/roundtrip: what one cache line
// costs to go from one core to the other and back.
//
//	go test -run '^$' -bench CoreHandoff ./bench/
func BenchmarkCoreHandoff(b *testing.B) {
	if runtime.GOMAXPROCS(0) < 2 {
		b.Skip("needs two Ps: both goroutines poll")
	}
	d := Handoff(b.N, 1)
	b.ReportMetric(float64(d.Nanoseconds()), "ns/roundtrip")
}
