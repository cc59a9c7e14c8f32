#!/usr/bin/env python3
"""det-CGD2 with rand-1 (and GD) on a LIBSVM file, written carefully with SciPy sparse: the peer a SciPy user would
write. CSR products for A x and A^T s (A^T stored as its own CSR, so both are row-major passes), NumPy's vectorised
exp, no loss value, G_KD accumulated every iteration as detcgd does. det-CGD2's D = (E[T L T])^{-1} = Diag(L)^{-1} / d
for rand-1, so x+ = x - e_j g_j / L_jj, L = A^T A / (4N) + 2 lambda I (logreg-nc's bound). Prints key=value pairs;
per_iter_s is the median over --repeats runs of the loop (setup excluded).

    scipy_detcgd.py --data ../shared/data/libsvm/a1a --method det-cgd2 --iters 3000 --repeats 5
"""
import argparse
import time

import numpy as np
import scipy.sparse
from sklearn.datasets import load_svmlight_file


def run(A, AT, b, lam, method, iters, seed):
    n, d = A.shape
    ldiag = np.asarray(A.multiply(A).sum(axis=0)).ravel() / (4 * n) + 2 * lam
    lmax = scipy.sparse.linalg.eigsh((AT @ A) / (4 * n), k=1, return_eigenvectors=False)[0] + 2 * lam
    dinv = 1.0 / ldiag
    x = np.full(d, 1.0 / np.sqrt(d))
    rng = np.random.default_rng(seed)
    coords = rng.integers(d, size=iters)
    neg_b_over_n = -b / n
    gkd = 0.0
    t0 = time.perf_counter()
    for k in range(iters):
        t = A @ x
        s = neg_b_over_n / (1.0 + np.exp(b * t))
        u = 1.0 + x * x
        g = AT @ s + 2 * lam * x / (u * u)
        if method == "gd":
            gkd += g @ g / lmax
            x -= g / lmax
        else:
            gkd += (g * g) @ dinv
            j = coords[k]
            x[j] -= g[j] * dinv[j]
    return (time.perf_counter() - t0) / iters, gkd / iters


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--method", choices=["gd", "det-cgd2"], default="det-cgd2")
    ap.add_argument("--lam", type=float, default=0.3)
    ap.add_argument("--iters", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    X, y = load_svmlight_file(a.data)
    A = scipy.sparse.csr_matrix(X, dtype=np.float64)
    AT = A.T.tocsr()
    b = np.where(y == y.max(), 1.0, -1.0)
    times = []
    for r in range(a.repeats):
        per_iter, gkd = run(A, AT, b, a.lam, a.method, a.iters, a.seed + r)
        times.append(per_iter)
    print("peer=scipy-sparse data=%s method=%s iters=%d repeats=%d per_iter_s=%.6g G_KD=%.6g nnz=%d"
          % (a.data, a.method, a.iters, a.repeats, float(np.median(times)), gkd, A.nnz))


if __name__ == "__main__":
    main()
