package reduce

import "github.com/simdbn/simdbn/fallback"

var (
	// blockBytes is the share of cache that one channel group of a fused
	// channels-first pass may fill: its statistics pass reads the group
	// from memory and its apply pass reads it again from cache.
	blockBytes = 512 << 10

	// chunkElems bounds the values one element-wise kernel call touches,
	// so that the scheduler can preempt between calls.
	chunkElems = 1 << 18
)

const pstride = fallback.ParamStrideCF

// channelsPerBlock is the number of channels of a channels-first group
// whose data, over tensors tensors, fits blockBytes (at least one).
func channelsPerBlock(s Shape, tensors int) int {
	per := tensors * s.N * s.S * 4
	if per == 0 {
		return max(1, s.C)
	}
	return max(1, blockBytes/per)
}

// forChunksCF calls f for every element-wise kernel call over channels
// [c0, c1) of a channels-first batch: n runs of c channels of runLen values
// from offset off, starting at channel cFirst.
func forChunksCF(s Shape, c0, c1 int, f func(off, n, c, runLen, cFirst int)) {
	stride := s.C * s.S
	width := (c1 - c0) * s.S
	switch {
	case width <= chunkElems:
		per := max(1, chunkElems/max(1, width))
		for n0 := 0; n0 < s.N; n0 += per {
			f(n0*stride+c0*s.S, min(per, s.N-n0), c1-c0, s.S, c0)
		}
	case s.S <= chunkElems:
		per := chunkElems / s.S
		for n := 0; n < s.N; n++ {
			for c := c0; c < c1; c += per {
				f(n*stride+c*s.S, 1, min(per, c1-c), s.S, c)
			}
		}
	default:
		for n := 0; n < s.N; n++ {
			for c := c0; c < c1; c++ {
				for off := 0; off < s.S; off += chunkElems {
					f(n*stride+c*s.S+off, 1, 1, min(chunkElems, s.S-off), c)
				}
			}
		}
	}
}

// cfSpan is the part of a channels-first slice that a call of forChunksCF
// touches.
func cfSpan(x []float32, s Shape, off, n, c, runLen int) []float32 {
	return x[off : off+(n-1)*s.C*s.S+c*runLen]
}

// forChunksRows calls f for every element-wise kernel call over the rows of
// a row-major batch.
func forChunksRows(s Shape, f func(r0, nr int)) {
	rows := s.rows()
	per := max(1, chunkElems/max(1, s.C))
	for r0 := 0; r0 < rows; r0 += per {
		f(r0, min(per, rows-r0))
	}
}
