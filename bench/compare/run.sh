#!/usr/bin/env bash
# Installs the peers (oneDNN, libtorch) from Debian, builds the libtorch shim
# and the Go comparison program, and runs it. Arguments go to the program:
#   ./run.sh            full run (about 10 minutes)
#   ./run.sh -quick     fewer samples and calls
#   ./run.sh -check-only, -shapes 8x512x7x7,256x1024, -ops train, -k 9, -reps 7
# Environment: NO_INSTALL=1 skips apt-get; SIMDBN_SRC=head builds against the
# last commit of the library instead of the work tree.
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
build=$here/build
mkdir -p "$build"

# 1. packages
if [ "${NO_INSTALL:-0}" != 1 ]; then
    if ! dpkg -s libdnnl-dev libtorch-dev g++ >/dev/null 2>&1; then
        sudo=""
        [ "$(id -u)" = 0 ] || sudo=sudo
        $sudo apt-get update
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y libdnnl-dev libtorch-dev g++
    fi
fi

# 2. the libtorch shim (extern "C" over ATen), loaded by the program with dlopen
shim=$build/libtorchshim.so
if [ ! -f "$shim" ] || [ shim/torch_shim.cpp -nt "$shim" ] || [ shim/torch_shim.h -nt "$shim" ]; then
    echo "building $shim" >&2
    if ! g++ -O2 -std=c++17 -shared -fPIC -Wall shim/torch_shim.cpp -o "$shim" -ltorch_cpu -lc10; then
        echo "WARNING: libtorch shim did not build; PyTorch columns will be empty" >&2
        rm -f "$shim"
    fi
fi

# 3. the Go program (own module; cgo only here)
bin=$build/compare
src="work tree"
if [ "${SIMDBN_SRC:-tree}" = head ] || ! go build -o "$bin" . 2>"$build/build-tree.log"; then
    if [ "${SIMDBN_SRC:-tree}" != head ]; then
        echo "the library's work tree does not build (see build/build-tree.log); using its last commit" >&2
    fi
    rm -rf "$build/simdbn-src"
    mkdir -p "$build/simdbn-src"
    git -C ../.. archive HEAD | tar -x -C "$build/simdbn-src"
    sed 's#=> ../..#=> ./build/simdbn-src#' go.mod >"$build/go.mod"
    cp go.sum "$build/go.sum"
    go build -modfile "$build/go.mod" -o "$bin" .
    src="commit $(git -C ../.. rev-parse --short HEAD)"
fi
echo "simdbn built from the $src" >&2
export SIMDBN_BUILT_FROM="$src"

# 4. run: one thread everywhere (oneDNN and libtorch in Debian use OpenMP)
export OMP_NUM_THREADS=1
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$bin" -shim "$shim" -o "$build/results.md" "$@"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "report written to $build/results.md" >&2
