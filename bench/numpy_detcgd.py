#!/usr/bin/env python3
"""det-CGD in NumPy, written the way a researcher would: dense stacked blocks,
einsum for the block-diagonal products, a fresh random subset per layer.

It is the baseline that bench/run_cpu.sh times against the detcgd CPU backend on
the same problem and the same K.  It prints one line of key=value pairs.

  logreg-nc on a LIBSVM file (one layer):
      numpy_detcgd.py --data a1a --method det-cgd2 --sketch rand-1 --iters 3000
  quad-nc with NB layers of width B (generated like detcgd's quad-nc):
      numpy_detcgd.py --layers 512x64 --method det-cgd2 --sketch rand-k --k 8 --iters 200
"""
import argparse
import time

import numpy as np


def read_libsvm(path):
    rows, labels, d = [], [], 0
    with open(path) as f:
        for line in f:
            parts = line.split('#')[0].split()
            if not parts:
                continue
            labels.append(float(parts[0]))
            feats = [(int(t.split(':')[0]) - 1, float(t.split(':')[1])) for t in parts[1:]]
            rows.append(feats)
            d = max([d] + [j + 1 for j, _ in feats])
    A = np.zeros((len(rows), d))
    for i, feats in enumerate(rows):
        for j, v in feats:
            A[i, j] = v
    y = np.array(labels)
    b = np.where(y == y.max(), 1.0, -1.0)
    return A, b


def logreg_problem(path, lam):
    A, b = read_libsvm(path)
    n, d = A.shape
    L = A.T @ A / (4 * n) + 2 * lam * np.eye(d)

    def grad(x):
        z = b * (A @ x)
        f = np.mean(np.logaddexp(0, -z)) + lam * np.sum(x * x / (1 + x * x))
        g = -(A.T @ (b / (1 + np.exp(z)))) / n + 2 * lam * x / (1 + x * x) ** 2
        return f, g

    return L[None, :, :], grad


def quad_problem(nb, width, lam, rng):
    lo, hi = 0.01, 1.0
    spec = lo * (hi / lo) ** (np.arange(width) / max(width - 1, 1))
    Q, _ = np.linalg.qr(rng.standard_normal((nb, width, width)))
    A = 0.5 * np.einsum('lij,j,lkj->lik', Q, spec, Q)
    A[:, np.arange(width), np.arange(width)] += 0.5 * rng.permuted(np.tile(spec, (nb, 1)), axis=1)
    c = rng.standard_normal((nb, width))
    L = A + 2 * lam * np.eye(width)[None]

    def grad(x):
        xb = x.reshape(nb, width)
        r = xb - c
        Ar = np.einsum('lij,lj->li', A, r)
        f = 0.5 * np.sum(r * Ar) + lam * np.sum(x * x / (1 + x * x))
        return f, Ar.reshape(-1) + 2 * lam * x / (1 + x * x) ** 2

    return L, grad


def stepsize(L, method, sketch, k):
    """det-CGD2 optimum (E[TLT])^-1 for rand-k, or D = I/lambda_max(L) for GD."""
    nb, m, _ = L.shape
    if method == 'gd':
        return np.eye(m)[None] / np.linalg.eigvalsh(L)[:, -1].max()
    if sketch == 'rand-1':
        k = 1
    diag = np.einsum('lii->li', L)
    Lt = (k - 1) / (m - 1) * L
    Lt[:, np.arange(m), np.arange(m)] += (m - k) / (m - 1) * diag
    return (k / m) * np.linalg.inv(Lt)


def run(args):
    rng = np.random.default_rng(args.seed)
    if args.data:
        L, grad = logreg_problem(args.data, args.lam)
    else:
        nb, width = (int(t) for t in args.layers.split('x'))
        L, grad = quad_problem(nb, width, args.lam, rng)
    nb, m, _ = L.shape
    D = stepsize(L, args.method, args.sketch, args.k)
    k = 1 if args.sketch == 'rand-1' else args.k
    x = np.full(nb * m, 1 / np.sqrt(nb * m))
    t0 = time.perf_counter()
    for it in range(args.iters):
        f, g = grad(x)
        gb = g.reshape(nb, m)
        if args.method == 'gd':
            step = np.einsum('lij,lj->li', D, gb)
        else:
            mask = np.zeros((nb, m))
            for layer in range(nb):  # per-layer random subset, scale m/k
                mask[layer, rng.choice(m, k, replace=False)] = m / k
            if args.method == 'det-cgd1':
                step = np.einsum('lij,lj->li', D, mask * gb)
            else:
                step = mask * np.einsum('lij,lj->li', D, gb)
        x = x - step.reshape(-1)
    elapsed = time.perf_counter() - t0
    f, g = grad(x)
    print(f"impl=numpy iters={args.iters} per_iter_s={elapsed / max(args.iters, 1):.9g} f_final={f:.15g}")


def peer_arguments(doc):
    """The options every peer takes (problem, method, sketch, K, seed)."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data')
    p.add_argument('--layers', default='64x64')
    p.add_argument('--lam', type=float, default=0.3)
    p.add_argument('--method', default='det-cgd2', choices=['gd', 'det-cgd1', 'det-cgd2'])
    p.add_argument('--sketch', default='rand-1', choices=['rand-1', 'rand-k'])
    p.add_argument('--k', type=int, default=1)
    p.add_argument('--iters', type=int, default=1000)
    p.add_argument('--seed', type=int, default=0)
    return p


if __name__ == '__main__':
    run(peer_arguments(__doc__).parse_args())
