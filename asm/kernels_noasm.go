//go:build !amd64 || !gc || purego || noasm

package asm

func impls() []Impl { return nil }
