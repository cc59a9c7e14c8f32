/*
 * gd.c -- gradient descent with a matrix stepsize:  x+ = x - D grad f(x).
 *
 * No compression (S = I whatever the compressor setting): the message is the gradient itself.  D = I /
 * lambda_max(L) with stepsize gd, or any D satisfying condition (7) with S = I, i.e. D L D <= D.  Single node
 * only (no distributed algorithm or stepsize of its own).
 */
#include "method.h"

static int gradient(DcRound* r) { return dc_round_compress(r, NULL); }
static int sum_gradients(DcRound* r) { return dc_round_absorb(r); }
static int step_through_d(DcRound* r) { return dc_round_step(r, r->D, -1.0); }

const DcMethodType dc_method_gd = {.name = "gd", .id = DETCGD_METHOD_GD, .stochastic = 1, .step_flags = DC_STEP_NO_SKETCH,
                                   .condition = 7, .client = gradient, .absorb = sum_gradients,
                                   .server = step_through_d};
