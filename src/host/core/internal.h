/*
 * internal.h -- private types and helpers shared by the host sources:
 * the layer layout, host block-diagonal matrices, error reporting.
 */
#ifndef DETCGD_INTERNAL_H
#define DETCGD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "detcgd.h"

/* Records the message of a failure (printf-style) and returns `status`. */
int dc_fail(int status, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Logs through the user sink. */
void dc_log(int level, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#define DC_TRY(call)                  \
  do {                                \
    int dc_try_st_ = (call);          \
    if (dc_try_st_ != DETCGD_OK) {    \
      st = dc_try_st_;                \
      goto fail;                      \
    }                                 \
  } while (0)

void* dc_calloc(size_t n, size_t size); /* calloc that records DETCGD_ERR_ALLOC on failure */
double dc_wall_time(void);              /* monotonic seconds */
void dc_sleep(double seconds);
int64_t dc_host_bytes_peak(void);       /* peak resident memory of the process (getrusage) */

/* ==== Layer layout ==== */

typedef struct DcLayout {
  int nblocks;    /* l */
  int64_t dim;    /* d = sum d_i */
  int* size;      /* owns: d_i */
  int64_t* voff;  /* owns: block i occupies x[voff[i] .. voff[i+1]) */
  int64_t* moff;  /* owns: dense block i occupies data[moff[i] .. moff[i+1]), d_i^2 entries */
  int max_size;   /* max_i d_i */
} DcLayout;

int dc_layout_init(DcLayout* lay, int nblocks, const int* sizes);
void dc_layout_free(DcLayout* lay);
/* Parses "64,32,32" / "16x64" / mixes ("2x8,4"); n = 0 for "".  *sizes is malloc'ed. */
int dc_parse_layers(const char* spec, int** sizes, int* n, const char* option);
/* name(0) .. name(count - 1) joined by ", " into out[0..n) (truncated to fit). */
void dc_join_names(char* out, size_t n, int count, const char* (*name)(int i));
/* FNV-1a over 64-bit words, the tail byte by byte, continuing from h (start: DC_HASH_START): a fingerprint
 * of configurations and data, not a cryptographic hash. */
#define DC_HASH_START 0xcbf29ce484222325ULL
uint64_t dc_hash64(uint64_t h, const void* data, size_t bytes);
/* Parses "a,b,c" into n doubles (n = 0 for ""). */
int dc_parse_doubles(const char* spec, double** out, int* n, const char* option);

/* ==== Per-block work on every core ==== */

#define DC_MAX_SCRATCH 6

/* Work on block i with the calling thread's scratch matrices; may set *value. */
typedef int (*DcBlockFn)(void* ctx, int i, double** scratch, double* value);

/* fn(ctx, i, scratch, value + i) for i = 0..n-1 on every core (OpenMP; blocks are independent, so the
 * results do not depend on the thread count), each thread with nscratch <= DC_MAX_SCRATCH matrices of
 * max_m^2 doubles.  value may be NULL.  On failure the first failing block is run again alone, so its
 * status and error message are the ones returned. */
int dc_for_each_block(int n, int max_m, int nscratch, DcBlockFn fn, void* ctx, double* value);
/* max(0, max_i value[i]) and sum_i value[i] in block order */
double dc_max_of(const double* value, int n);
double dc_sum_of(const double* value, int n);

/* ==== Host block-diagonal matrices ==== */

typedef enum DcBlocksKind { DC_BLOCKS_SCALAR = 0, DC_BLOCKS_DIAG, DC_BLOCKS_DENSE } DcBlocksKind;

/* B = Diag(B_1..B_l): SCALAR stores l values (B_i = b_i I), DIAG stores d values,
 * DENSE stores every block column-major at layout->moff[i]. */
typedef struct DcHostBlocks {
  int kind;
  const DcLayout* layout; /* borrowed */
  double* data;           /* owns */
  int store32;            /* 1: every entry is a float; backends keep DENSE blocks as float */
} DcHostBlocks;

int dc_blocks_alloc(DcHostBlocks* B, const DcLayout* lay, int kind);
void dc_blocks_free(DcHostBlocks* B);
/* Dense copy of block i into out (d_i^2). */
void dc_blocks_get_dense(const DcHostBlocks* B, int i, double* out);
/* Rewrites a DENSE matrix as DIAG or SCALAR when its entries allow (exactly). */
int dc_blocks_compact(DcHostBlocks* B);
/* Rounds every entry to the nearest float and sets store32; fails, naming `option`, when a
 * nonzero entry would become 0 or infinite (as does dc_round_float_entries). */
int dc_blocks_round_float(DcHostBlocks* B, const char* option);
/* v[0..n) rounded to the nearest float in place; an error names `option` and entry first + e. */
int dc_round_float_entries(double* v, int64_t n, int64_t first, const char* option);
/* Entries held: l (SCALAR), d (DIAG) or sum d_i^2 (DENSE). */
int64_t dc_blocks_count(const DcHostBlocks* B);
/* Block i's entries: how many, and where they start (*first). */
int64_t dc_blocks_block_entries(const DcHostBlocks* B, int i, int64_t* first);
/* A malloc'ed float copy of B's entries (what backends keep for store32); NULL when out of memory. */
float* dc_blocks_to_float(const DcHostBlocks* B);

#endif /* DETCGD_INTERNAL_H */
