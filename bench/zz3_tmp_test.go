package bench

import (
	"os"
	"strconv"
	"testing"
)

func TestZZProf(t *testing.T) {
	d, _ := ParseShape(os.Getenv("ZZSHAPE"))
	g, _ := strconv.Atoi(os.Getenv("ZZG"))
	op := Op(os.Getenv("ZZOP"))
	l := Layouts[1]
	if os.Getenv("ZZL") == "nchw" {
		l = Layouts[0]
	}
	k, err := NewKernel(buffers(), op, d, l.Layout, "avx512", g)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(os.Getenv("ZZN"))
	if n == 0 {
		n = 100000
	}
	for i := 0; i < n; i++ {
		k.Run()
	}
}
