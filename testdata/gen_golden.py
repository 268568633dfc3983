#!/usr/bin/python3
"""Writes the PyTorch golden files of package bn into testdata/golden/.

Run with Debian's python3 and python3-torch (not a pyenv python):

    apt-get install -y python3-torch && /usr/bin/python3 testdata/gen_golden.py

Each case is one JSON file. Arrays of elements (x, dy, y, dx, infer_y) are
flattened in the layout of the case, as package bn indexes them:
channels_first (n*C + c)*S + s, channels_last (n*S + s)*C + c. Per-channel
arrays have length C. All numbers are written with Python's repr, so the
float32 inputs and outputs and the float64 reference round-trip exactly.

  N, C, S, layout, dims    the batch; dims is the torch shape (N, C, *spatial)
  eps, momentum            float32 values
  affine                   false: gamma and beta are null (ones, zeros)
  offset                   x = offset + N(0, 1)
  x, dy, gamma, beta       inputs (float32)
  running_mean0/var0       running statistics before training (float32);
                           inference uses these
  torch                    PyTorch float32 CPU outputs: y, save_mean,
                           save_invstd, running_mean, running_var (after the
                           update), dx, dgamma, dbeta (null unless affine),
                           infer_y
  ref                      the same computed by torch in float64 on the same
                           float32 inputs, plus var (biased batch variance);
                           dgamma and dbeta always (gamma = 1 when not affine)
"""

import json
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")

DIMS = [(3, 5, 7), (2, 3, 4, 5), (5, 1, 1), (1, 6, 13), (4, 16, 3, 3), (2, 2, 5, 3, 2), (7, 3)]
LAYOUTS = ["channels_first", "channels_last"]
OFFSETS = [0.0, 1e3, 1e6]
EPS = [1e-5, 1e-3, 0.0, 0.1]
MOMENTUM = [0.1, 0.0, 0.5, 1.0]


def f32(v):
    return float(torch.tensor(v, dtype=torch.float32).item())


def flat(t, layout):
    """Flattens a logical (N, C, *spatial) tensor in the layout's order."""
    t = t.detach()
    if layout == "channels_last" and t.dim() > 2:
        t = t.movedim(1, -1)
    return [float(v) for v in t.contiguous().reshape(-1).tolist()]


def vec(t):
    return None if t is None else [float(v) for v in t.detach().reshape(-1).tolist()]


def memory(t, layout):
    if layout != "channels_last":
        return t.contiguous()
    if t.dim() == 4:
        return t.contiguous(memory_format=torch.channels_last)
    if t.dim() == 5:
        return t.contiguous(memory_format=torch.channels_last_3d)
    # No channels-last memory format for 2-D and 3-D tensors: permute, so the
    # kernel still sees channels-last strides.
    return t.movedim(1, -1).contiguous().movedim(-1, 1)


def run(x, dy, gamma, beta, rm0, rv0, eps, mom, layout, dtype):
    """Train (+ backward) and infer in dtype; returns a dict of outputs."""
    x = memory(x.to(dtype).clone(), layout).requires_grad_(True)
    dy = memory(dy.to(dtype).clone(), layout)
    C = x.shape[1]
    w = (gamma if gamma is not None else torch.ones(C, dtype=torch.float32)).detach().to(dtype).clone().requires_grad_(True)
    b = (beta if beta is not None else torch.zeros(C, dtype=torch.float32)).detach().to(dtype).clone().requires_grad_(True)
    affine = gamma is not None
    rm, rv = rm0.to(dtype).clone(), rv0.to(dtype).clone()
    if affine or dtype == torch.float64:
        y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=mom, eps=eps)
    else:
        y = F.batch_norm(x, rm, rv, None, None, training=True, momentum=mom, eps=eps)
    y.backward(dy)
    with torch.no_grad():
        _, save_mean, save_invstd = torch.native_batch_norm(
            x, w if affine else None, b if affine else None, rm0.to(dtype).clone(), rv0.to(dtype).clone(), True, mom, eps)
        yi = F.batch_norm(x, rm0.to(dtype), rv0.to(dtype), w if affine else None, b if affine else None,
                          training=False, eps=eps)
        dims = [0] + list(range(2, x.dim()))
        var = x.var(dim=dims, unbiased=False)
    give_params = affine or dtype == torch.float64
    return {
        "y": flat(y, layout),
        "save_mean": vec(save_mean),
        "save_invstd": vec(save_invstd),
        "var": vec(var) if dtype == torch.float64 else None,
        "running_mean": vec(rm),
        "running_var": vec(rv),
        "dx": flat(x.grad, layout),
        "dgamma": vec(w.grad) if give_params else None,
        "dbeta": vec(b.grad) if give_params else None,
        "infer_y": flat(yi, layout),
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        if name.endswith(".json"):
            os.remove(os.path.join(OUT, name))
    g = torch.Generator().manual_seed(20240611)
    k = 0
    for dims in DIMS:
        for layout in LAYOUTS:
            for offset in OFFSETS:
                N, C = dims[0], dims[1]
                S = 1
                for d in dims[2:]:
                    S *= d
                eps = f32(EPS[k % len(EPS)])
                mom = f32(MOMENTUM[(k // 2) % len(MOMENTUM)])
                affine = k % 3 != 2
                k += 1
                x = (offset + torch.randn(dims, generator=g, dtype=torch.float64)).float()
                dy = torch.randn(dims, generator=g, dtype=torch.float64).float()
                gamma = torch.randn(C, generator=g, dtype=torch.float64).float() if affine else None
                beta = (3 * torch.randn(C, generator=g, dtype=torch.float64)).float() if affine else None
                rm0 = (offset + torch.randn(C, generator=g, dtype=torch.float64)).float()
                rv0 = (0.25 + 2 * torch.rand(C, generator=g, dtype=torch.float64)).float()
                case = {
                    "N": N, "C": C, "S": S, "layout": layout, "dims": list(dims),
                    "eps": eps, "momentum": mom, "affine": affine, "offset": offset,
                    "x": flat(x, layout), "dy": flat(dy, layout),
                    "gamma": vec(gamma), "beta": vec(beta),
                    "running_mean0": vec(rm0), "running_var0": vec(rv0),
                    "torch": run(x, dy, gamma, beta, rm0, rv0, eps, mom, layout, torch.float32),
                    "ref": run(x, dy, gamma, beta, rm0, rv0, eps, mom, layout, torch.float64),
                }
                fname = "%s_%s_off%s.json" % ("x".join(map(str, dims)), "cl" if layout == "channels_last" else "cf",
                                               {0.0: "0", 1e3: "1e3", 1e6: "1e6"}[offset])
                with open(os.path.join(OUT, fname), "w") as f:
                    json.dump(case, f, separators=(",", ":"))
                    f.write("\n")
    print("wrote %d cases to %s (torch %s)" % (k, OUT, torch.__version__))


if __name__ == "__main__":
    main()
