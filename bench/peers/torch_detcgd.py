#!/usr/bin/env python3
"""det-CGD in PyTorch, written the way a researcher would: stacked blocks and
torch.bmm for the block-diagonal products, a random subset per layer (one
torch.randperm per layer, or --sampler argsort: all layers at once by sorting
random keys, the faster idiom), eager or wrapped in torch.compile.

The peer that bench/run_gpu.sh times on the same GPU as the detcgd CUDA backend,
on the same problems and the same K (bench/numpy_detcgd.py is the CPU peer; the
problems are built the same way).  Prints one line of key=value pairs.

  logreg-nc on a LIBSVM file (one layer):
      torch_detcgd.py --data a9a --method det-cgd2 --sketch rand-k --k 16 --iters 2000
  quad-nc with NB layers of width B:
      torch_detcgd.py --layers 16384x64 --method det-cgd2 --sketch rand-k --k 8 --iters 200
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from numpy_detcgd import peer_arguments, read_libsvm  # noqa: E402  (the NumPy peer's reader and options)


def logreg_problem(path, lam, dev):
    A, b = read_libsvm(path)
    A = torch.tensor(A, device=dev)
    b = torch.tensor(b, device=dev)
    n, d = A.shape
    L = A.T @ A / (4 * n) + 2 * lam * torch.eye(d, device=dev, dtype=A.dtype)

    def grad(x):
        z = b * (A @ x)
        f = torch.nn.functional.softplus(-z).mean() + lam * torch.sum(x * x / (1 + x * x))
        g = -(A.T @ (b * torch.sigmoid(-z))) / n + 2 * lam * x / (1 + x * x) ** 2
        return f, g

    return L[None], grad


def quad_problem(nb, width, lam, gen, dev):
    lo, hi = 0.01, 1.0
    spec = lo * (hi / lo) ** (torch.arange(width, dtype=torch.float64, device=dev) / max(width - 1, 1))
    Q, _ = torch.linalg.qr(torch.randn(nb, width, width, generator=gen, dtype=torch.float64, device=dev))
    A = 0.5 * (Q * spec) @ Q.transpose(1, 2)
    perm = torch.rand(nb, width, generator=gen, device=dev, dtype=torch.float64).argsort(dim=1)
    A.diagonal(dim1=1, dim2=2).add_(0.5 * spec[perm])
    c = torch.randn(nb, width, generator=gen, dtype=torch.float64, device=dev)
    L = A + 2 * lam * torch.eye(width, dtype=torch.float64, device=dev)[None]

    def grad(x):
        xb = x.view(nb, width)
        r = xb - c
        Ar = torch.bmm(A, r.unsqueeze(2)).squeeze(2)
        f = 0.5 * torch.sum(r * Ar) + lam * torch.sum(x * x / (1 + x * x))
        return f, Ar.reshape(-1) + 2 * lam * x / (1 + x * x) ** 2

    return L, grad


def stepsize(L, method, k):
    """det-CGD2 optimum (E[TLT])^-1 for rand-k, or D = I/lambda_max(L) for GD."""
    nb, m, _ = L.shape
    eye = torch.eye(m, dtype=L.dtype, device=L.device)
    if method == 'gd':
        return eye[None].expand(nb, m, m) / torch.linalg.eigvalsh(L)[:, -1].max()
    Lt = (k - 1) / max(m - 1, 1) * L
    Lt.diagonal(dim1=1, dim2=2).add_((m - k) / max(m - 1, 1) * L.diagonal(dim1=1, dim2=2))
    return (k / m) * torch.linalg.inv(Lt)


def make_mask(nb, m, k, sampler, gen, dev):
    """Per layer k of m coordinates without replacement, scaled m/k."""
    mask = torch.zeros(nb, m, dtype=torch.float64, device=dev)
    if sampler == 'randperm':
        for layer in range(nb):
            mask[layer, torch.randperm(m, generator=gen, device=dev)[:k]] = m / k
    else:
        keep = torch.rand(nb, m, generator=gen, device=dev).argsort(dim=1)[:, :k]
        mask.scatter_(1, keep, m / k)
    return mask


def run(args):
    dev = torch.device(args.device)
    gen = torch.Generator(device=dev)
    gen.manual_seed(args.seed)
    if args.data:
        L, grad = logreg_problem(args.data, args.lam, dev)
    else:
        nb, width = (int(t) for t in args.layers.split('x'))
        L, grad = quad_problem(nb, width, args.lam, gen, dev)
    nb, m, _ = L.shape
    k = 1 if args.sketch == 'rand-1' else args.k
    D = stepsize(L, args.method, k).contiguous()

    def step(x, mask):
        f, g = grad(x)
        gb = g.view(nb, m, 1)
        if args.method == 'gd':
            s = torch.bmm(D, gb).squeeze(2)
        elif args.method == 'det-cgd1':
            s = torch.bmm(D, mask.unsqueeze(2) * gb).squeeze(2)
        else:
            s = mask * torch.bmm(D, gb).squeeze(2)
        return x - s.reshape(-1)

    if args.compile:
        step = torch.compile(step)
    x = torch.full((nb * m,), 1 / (nb * m) ** 0.5, dtype=torch.float64, device=dev)
    no_mask = torch.ones(nb, m, dtype=torch.float64, device=dev)
    for _ in range(3):  # warm-up (and compilation) outside the timed loop
        step(x, no_mask)
    if dev.type == 'cuda':
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(args.iters):
        mask = no_mask if args.method == 'gd' else make_mask(nb, m, k, args.sampler, gen, dev)
        x = step(x, mask)
    if dev.type == 'cuda':
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - t0
    f, _ = grad(x)
    impl = 'torch-compile' if args.compile else 'torch-eager'
    print(f"impl={impl} device={dev.type} sampler={args.sampler} iters={args.iters} "
          f"per_iter_s={elapsed / max(args.iters, 1):.9g} f_final={float(f):.15g}")


if __name__ == '__main__':
    p = peer_arguments(__doc__)
    p.add_argument('--sampler', default='randperm', choices=['randperm', 'argsort'])
    p.add_argument('--compile', action='store_true', help='wrap the iteration in torch.compile')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    run(p.parse_args())
