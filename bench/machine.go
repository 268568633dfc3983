package bench

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/klauspost/cpuid/v2"
)

// Machine names the processor the numbers come from: its brand string,
// vendor, family and model, the logical CPUs this process may use, and the
// data cache sizes the CPUID instruction reports. Every ratio to copy()
// depends on them (the cache-blocked passes are sized for the L2), and
// the same kind of virtual machine has been seen on more than one
// processor, so every report carries it.
func Machine() string {
	c := cpuid.CPU
	name := strings.TrimSpace(c.BrandName)
	if name == "" {
		name = "unknown processor"
	}
	return fmt.Sprintf("%s (%s, family %d model %d), %d logical CPUs, L1d %s, L2 %s, L3 %s",
		name, c.VendorString, c.Family, c.Model, runtime.NumCPU(),
		cacheSize(c.Cache.L1D), cacheSize(c.Cache.L2), cacheSize(c.Cache.L3))
}

// cacheSize formats a cache size in bytes as CPUID reports it (-1 or 0
// when it does not).
func cacheSize(b int) string {
	switch {
	case b <= 0:
		return "unknown"
	case b%(1<<20) == 0:
		return fmt.Sprintf("%d MB", b>>20)
	default:
		return fmt.Sprintf("%d KB", b>>10)
	}
}
