/*
 * problem.h -- the problem object: data, layout, and the block-diagonal
 * smoothness bound that every stepsize is built from.
 */
#ifndef DETCGD_PROBLEM_H
#define DETCGD_PROBLEM_H

#include "backend.h"
#include "libsvm.h"

struct DetcgdProblem {
  DetcgdProblemSpec spec;
  DcLayout layout;        /* owns */
  DcHostProblem host;     /* points into data / A / c */
  DcLibsvm data;          /* owns (logreg-nc) */
  double* A;              /* owns (quad-nc): dense A_i */
  double* c;              /* owns (quad-nc): centres */
  DcHostBlocks L;         /* owns: dense blocks L_i of the certified bound L <= Diag(L_i) */
  double block_c;         /* c in L <= c Blockdiag(L_ii) */
  double lmax;            /* max_i lambda_max(L_i) */
};

#endif /* DETCGD_PROBLEM_H */
