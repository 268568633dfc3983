package bench

import (
	"testing"
	"time"
)

// TestBlocksFollowReference checks that the reference is cut into the same
// blocks beside a fast kernel and beside one slower than a whole sample,
// and that every call of both sides is in a block.
func TestBlocksFollowReference(t *testing.T) {
	const target = 10 * time.Millisecond
	for _, rc := range []int{1, 3, 12, 500, 1 << 20} {
		fastRounds, _, fastBc := blocks(1<<20, rc, target)
		for _, rk := range []int{1, 2, 3, 9, 10, 11, 4000, 1 << 20} {
			rounds, bk, bc := blocks(rk, rc, target)
			if rounds != fastRounds || bc != fastBc {
				t.Errorf("rk=%d rc=%d: reference in %d blocks of %d, beside a fast kernel %d of %d", rk, rc, rounds, bc, fastRounds, fastBc)
			}
			if rounds < 1 || bk < 1 || bc < 1 {
				t.Errorf("rk=%d rc=%d: %d blocks of %d and %d calls", rk, rc, rounds, bk, bc)
			}
			if rounds > 10 {
				t.Errorf("rk=%d rc=%d: %d blocks, want at most one a millisecond of the 10ms target", rk, rc, rounds)
			}
			if rk >= rounds && (bk*rounds > rk || bk*rounds <= rk-rounds) {
				t.Errorf("rk=%d rc=%d: %d blocks of %d kernel calls", rk, rc, rounds, bk)
			}
			if bc*rounds > rc || bc*rounds <= rc-rounds {
				t.Errorf("rk=%d rc=%d: %d blocks of %d reference calls", rk, rc, rounds, bc)
			}
		}
	}
}
