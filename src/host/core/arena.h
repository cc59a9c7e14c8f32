/*
 * arena.h -- one solver's device memory: sub-allocations carved from a few large
 * chunks that a provider (cudaMalloc / cudaFree on the CUDA backend) hands out.
 *
 * Each chunk is a stack: an allocation goes on top of the first chunk with room
 * (else into a new chunk of max(request, min_chunk) bytes), aligned to
 * DC_ARENA_ALIGN; a release marks it free, and the chunk's top comes down over
 * every free allocation at its top, so space is reused once what lies above it
 * is released.  A chunk left empty goes back to the provider.  The arena counts
 * the bytes in use and held, and their peaks (what a run reports as its memory).
 * Plain C, no CUDA: the bookkeeping is tested on the CPU with malloc as provider.
 */
#ifndef DETCGD_ARENA_H
#define DETCGD_ARENA_H

#include <stddef.h>

#define DC_ARENA_ALIGN 256 /* cudaMalloc's alignment: every sub-allocation starts at a multiple */

typedef struct DcArenaProvider {
  void* (*alloc)(void* ctx, size_t bytes); /* NULL when it cannot */
  void (*release)(void* ctx, void* p);
  void* ctx;
} DcArenaProvider;

typedef struct DcArenaAlloc { size_t offset, size; int live; } DcArenaAlloc;

typedef struct DcArenaChunk {
  unsigned char* base; /* from the provider */
  size_t size, top;    /* [0, top) holds allocations (live or released) */
  DcArenaAlloc* allocs; /* owns: in increasing offset */
  int nallocs, cap;
} DcArenaChunk;

typedef struct DcArena {
  DcArenaProvider provider;
  size_t min_chunk;
  DcArenaChunk* chunks; /* owns */
  int nchunks, cap;
  size_t in_use, held;           /* bytes of live allocations (aligned sizes); bytes of chunks */
  size_t peak_in_use, peak_held;
} DcArena;

void dc_arena_init(DcArena* a, DcArenaProvider provider, size_t min_chunk);
/* *p = `bytes` bytes (at least 1) aligned to DC_ARENA_ALIGN; DETCGD_ERR_ALLOC when the provider cannot give
 * a chunk (nothing recorded: the caller names what failed). */
int dc_arena_alloc(DcArena* a, size_t bytes, void** p);
/* Releases p (NULL: nothing); DETCGD_ERR_INTERNAL when p is not a live allocation of a. */
int dc_arena_free(DcArena* a, void* p);
/* Every chunk back to the provider. */
void dc_arena_destroy(DcArena* a);

#endif /* DETCGD_ARENA_H */
