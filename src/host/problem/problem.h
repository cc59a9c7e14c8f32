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
  double* coef;           /* owns (poly-nc): a_j */
  DcHostBlocks L;         /* owns (logreg-nc): dense blocks L_i of the certified bound L <= Diag(L_i);
                          * quad-nc keeps only A (L_i = A_i + 2 lambda I): read blocks with dc_problem_L_get */
  double block_c;         /* c in L <= c Blockdiag(L_ii) */
  double lmax;            /* max_i lambda_max(L_i) */
  /* distributed (spec.clients > 0): rows reordered by the split, client c owns rows
   * [client_row[c], client_row[c+1]) and f_c is described by client_host[c] */
  int nclients;
  int64_t* client_row;       /* owns: nclients + 1 */
  DcHostProblem* client_host;/* owns: nclients */
};

/* Fingerprint of the data the problem holds (layer widths, rows and labels or A and c, as stored). */
uint64_t dc_problem_data_hash(const DetcgdProblem* p);

/* L_i into out (d_i^2 doubles, column-major). */
void dc_problem_L_get(const DetcgdProblem* p, int i, double* out);
/* (L_0, L_1)-smoothness, ||Hess f(x)|| <= L_0 + L_1 ||grad f(x)||: logreg-nc L_0 = 2 lam + lam sqrt(d) max_j ||a_j||,
 * L_1 = max_j ||a_j|| (Khirirat et al., their logistic problem: METHODS.md [V]); quad-nc L_0 = lambda_max(L), L_1 = 0;
 * poly-nc L_1 = poly_l1, L_0 = 16 max_j a_j / L_1^2 + (2 + 3 sqrt(3) L_1 / 8) lambda (derived in problem.c). */
void dc_problem_l0_l1(const DetcgdProblem* p, double* L0, double* L1);
/* mu of Hess f_c >= mu I for every client (problem.c; 0: none known).  logreg-nc with l2 > 0 reports (L_0, L_1) =
 * (L, 0): it is L-smooth. */
double dc_problem_mu(const DetcgdProblem* p);

#endif /* DETCGD_PROBLEM_H */
