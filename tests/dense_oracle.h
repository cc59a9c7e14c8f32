// dense_oracle.h -- the dense d x d logistic smoothness matrix built entry by
// entry: the oracle of the matrix-free constants (src/host/gram.c).
#ifndef DETCGD_DENSE_ORACLE_H
#define DETCGD_DENSE_ORACLE_H

#include <vector>
extern "C" {
#include "backend.h"
}

// L = (1/(4N)) A^T A + 2 lam I of the rows of h, column-major d x d.
inline std::vector<double> dense_smoothness(const DcHostProblem& h, int64_t d) {
  std::vector<double> L(d * d, 0.0);
  const double w = 1.0 / (4.0 * (double)h.nrows);
  for (int64_t j = 0; j < h.nrows; ++j)
    for (int64_t p = h.rowptr[j]; p < h.rowptr[j + 1]; ++p)
      for (int64_t q = h.rowptr[j]; q < h.rowptr[j + 1]; ++q)
        L[h.colidx[p] + h.colidx[q] * d] += w * h.val[p] * h.val[q];
  for (int64_t j = 0; j < d; ++j) L[j + j * d] += 2.0 * h.lambda;
  return L;
}

#endif  // DETCGD_DENSE_ORACLE_H
