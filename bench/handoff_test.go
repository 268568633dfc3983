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
