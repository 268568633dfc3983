package bench

import (
	"strings"
	"testing"
)

func TestMachineNamesTheCaches(t *testing.T) {
	m := Machine()
	for _, want := range []string{"family", "model", "logical CPUs", "L1d", "L2", "L3"} {
		if !strings.Contains(m, want) {
			t.Errorf("Machine() = %q, lacks %q", m, want)
		}
	}
	for _, c := range []struct {
		b    int
		want string
	}{{-1, "unknown"}, {0, "unknown"}, {48 << 10, "48 KB"}, {2 << 20, "2 MB"}, {260 << 20, "260 MB"}, {1536 << 10, "1536 KB"}} {
		if got := cacheSize(c.b); got != c.want {
			t.Errorf("cacheSize(%d) = %q, want %q", c.b, got, c.want)
		}
	}
}
