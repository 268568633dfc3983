//go:build amd64 && gc && !purego && !noasm

package asm

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRequiresMatchesGeneratedCode reads avo's "// Requires:" lines of every
// generated file of a tier and checks that the tier's dispatch gate names
// exactly their union, and that each name is one the gate can check.
func TestRequiresMatchesGeneratedCode(t *testing.T) {
	for _, im := range impls() {
		files, err := filepath.Glob("*_" + im.Name + "_amd64.s")
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no generated files (%v)", im.Name, err)
		}
		var union []string
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(string(b), "\n") {
				rest, ok := strings.CutPrefix(line, "// Requires: ")
				if !ok {
					continue
				}
				for _, name := range strings.Split(rest, ", ") {
					if !slices.Contains(union, name) {
						union = append(union, name)
					}
				}
			}
		}
		slices.Sort(union)
		got := slices.Sorted(slices.Values(im.Requires))
		if !slices.Equal(got, union) {
			t.Errorf("%s: dispatch gate requires %v, generated code requires %v", im.Name, got, union)
		}
		for _, name := range im.Requires {
			if _, ok := features[name]; !ok {
				t.Errorf("%s: feature %q has no detector in features", im.Name, name)
			}
		}
	}
}

// TestGODEBUGSwitchesTiersOff checks that x/sys/cpu's GODEBUG switches
// reach the gates: CI runs the tests with GODEBUG=cpu.avx512f=off.
func TestGODEBUGSwitchesTiersOff(t *testing.T) {
	if !strings.Contains(os.Getenv("GODEBUG"), "cpu.avx512f=off") {
		t.Skip("GODEBUG=cpu.avx512f=off is not set")
	}
	if avx512.Available {
		t.Errorf("avx512 is available with GODEBUG=%s", os.Getenv("GODEBUG"))
	}
}

// TestEveryKernelGenerated checks that every available tier has all its
// kernels (package reduce would otherwise quietly use fallback's).
func TestEveryKernelGenerated(t *testing.T) {
	for _, im := range impls() {
		if im.StatsCF == nil || im.StatsCL == nil || im.BackwardCF == nil || im.BackwardCL == nil ||
			im.ApplyCF == nil || im.ApplyCL == nil || im.BackwardApplyCF == nil || im.BackwardApplyCL == nil ||
			im.ApplyCFNT == nil || im.ApplyCLNT == nil || im.BackwardApplyCFNT == nil || im.BackwardApplyCLNT == nil ||
			im.StatsCLPrefetch == nil || im.BackwardCLPrefetch == nil ||
			im.StatsCLCached == nil || im.BackwardCLCached == nil {
			t.Errorf("%s lacks a kernel: %+v", im.Name, im)
		}
	}
}
