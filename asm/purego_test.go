package asm

import (
	"go/build"
	"testing"
)

// TestPuregoLeavesNoAssembly checks that -tags purego (and noasm) builds
// this package without any assembly, on amd64 and elsewhere.
func TestPuregoLeavesNoAssembly(t *testing.T) {
	for _, tag := range []string{"purego", "noasm"} {
		for _, arch := range []string{"amd64", "arm64", "386"} {
			ctx := build.Default
			ctx.GOARCH = arch
			ctx.BuildTags = []string{tag}
			p, err := ctx.ImportDir(".", 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.SFiles) != 0 {
				t.Errorf("-tags %s on %s builds assembly: %v", tag, arch, p.SFiles)
			}
		}
	}
	ctx := build.Default
	ctx.GOARCH = "amd64"
	p, err := ctx.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.SFiles) == 0 {
		t.Errorf("the default amd64 build has no assembly: the check above proves nothing")
	}
}
