/*
 * method.h -- the method interface: one type table per method, written against backend ops only.
 *
 * The loop (run/) draws the sketch of iteration k, calls the method's ops and names no method; the
 * theory (theory/) reads the condition a method's stepsize must satisfy from its type.  Single node:
 *   step      x^{k+1} from x^k, g = grad f(x^k) and the draw S^k.
 * n clients (Algorithms 1 and 2 of det-CGD; NULL: the method has no distributed form):
 *   message   client c's message values from its gradient and its draw S_c^k (B: the matrix the message
 *             is taken through, NULL for S_c g_c), summed by the round into agg = sum_c m_c;
 *   server    x^{k+1} from agg.
 *
 * Adding a method: a file in methods/ with its type table, its entry in registry.c, one row in the
 * method test table (tests/method_table.txt: every check of tests/test_method_table.cc runs it).
 */
#ifndef DETCGD_METHOD_H
#define DETCGD_METHOD_H

#include "backend.h"
#include "compressor.h"

/* What a method needs of its compressor, checked before anything is allocated. */
enum {
  DC_NEEDS_LINEAR = 1u << 0,  /* a linear sketch S (the E[S A S] theory of det-CGD) */
  DC_NEEDS_UNBIASED = 1u << 1 /* E[C(x)] = x */
};

/* How a step moves x (what the loop may do for it). */
enum {
  DC_STEP_NO_SKETCH = 1u << 0, /* runs with S = I whatever the compressor setting (GD) */
  DC_STEP_KEPT_ROWS = 1u << 1  /* moves only the kept coordinates, by the values sketch_compress(D, S, g)
                                * writes: with quad-nc the gradient can follow from A's kept columns */
};

/* The state a method's ops read and write. */
typedef struct DcMethodIterate {
  DcBackend* be;
  const DcBlocks* D; /* the matrix stepsize */
  DcSketch* S;       /* this iteration's draw (NULL: S = I) */
  DcVec* x;          /* iterate */
  const DcVec* g;    /* single node: grad f(x^k) */
  const DcVec* agg;  /* n clients: sum_c m_c */
  int nclients;
} DcMethodIterate;

typedef struct DcMethodType {
  const char* name;        /* --method value */
  int id;                  /* DetcgdMethod */
  unsigned needs;          /* DC_NEEDS_* */
  unsigned step_flags;     /* DC_STEP_* */
  int condition;           /* the stepsize condition of the paper: 7 (x - D S g) or 8 (x - T D g) */
  const char* algorithm;   /* the distributed algorithm, for the summary (NULL: none) */
  int (*step)(const DcMethodIterate* it);
  /* the matrix a client's message goes through (it->D or NULL): m_c = S_c B grad f_c(x) */
  const DcBlocks* (*message_matrix)(const DcMethodIterate* it);
  int (*server)(const DcMethodIterate* it);
  const DcOption* options; /* its own option rows, read only when it runs (NULL: none) */
} DcMethodType;

/* GD (gd.c), det-CGD1 and det-CGD2 (det_cgd.c). */
extern const DcMethodType dc_method_gd, dc_method_det_cgd1, dc_method_det_cgd2;

/* The type of method id (DetcgdMethod; NULL when there is none); by --method name (NULL when unknown). */
const DcMethodType* dc_method_type(int id);
const DcMethodType* dc_method_find(const char* name);
/* Every method's name, ", "-separated, into out[0..n). */
void dc_method_list(char* out, size_t n);
/* The sketch a run of method m uses: the identity when m compresses nothing or the sketch setting is the
 * identity, else the setting's sketch on p. */
int dc_method_sketch_spec(DcSketchSpec* sp, const DcMethodType* m, const DetcgdSettings* s, const DetcgdProblem* p);
/* Does compressor t satisfy method m's needs?  Else an error naming both. */
int dc_method_check_compressor(const DcMethodType* m, const DcCompressorType* t);

#endif /* DETCGD_METHOD_H */
