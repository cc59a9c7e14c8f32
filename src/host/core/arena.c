/*
 * arena.c -- chunked stack allocator for a solver's device memory (arena.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "arena.h"
#include "internal.h"

void dc_arena_init(DcArena* a, DcArenaProvider provider, size_t min_chunk) {
  memset(a, 0, sizeof *a);
  a->provider = provider;
  a->min_chunk = min_chunk;
}

/* Grows *arr (cap entries of `size` bytes) to hold n + 1. */
static int reserve_one(void** arr, int* cap, int n, size_t size) {
  void* grown;
  int want;
  if (n < *cap) return DETCGD_OK;
  want = *cap ? 2 * *cap : 8;
  if (!(grown = realloc(*arr, (size_t)want * size))) return DETCGD_ERR_ALLOC;
  *arr = grown;
  *cap = want;
  return DETCGD_OK;
}

static void note_peaks(DcArena* a) {
  if (a->in_use > a->peak_in_use) a->peak_in_use = a->in_use;
  if (a->held > a->peak_held) a->peak_held = a->held;
}

/* A new chunk of `size` bytes at the end of a->chunks, or NULL. */
static DcArenaChunk* add_chunk(DcArena* a, size_t size) {
  DcArenaChunk* c;
  void* base;
  if (reserve_one((void**)&a->chunks, &a->cap, a->nchunks, sizeof(DcArenaChunk)) != DETCGD_OK) return NULL;
  if (!(base = a->provider.alloc(a->provider.ctx, size))) return NULL;
  c = &a->chunks[a->nchunks++];
  memset(c, 0, sizeof *c);
  c->base = (unsigned char*)base;
  c->size = size;
  a->held += size;
  note_peaks(a);
  return c;
}

static void drop_chunk(DcArena* a, int i) {
  DcArenaChunk* c = &a->chunks[i];
  a->provider.release(a->provider.ctx, c->base);
  a->held -= c->size;
  free(c->allocs);
  memmove(c, c + 1, (size_t)(a->nchunks - i - 1) * sizeof *c);
  --a->nchunks;
}

int dc_arena_alloc(DcArena* a, size_t bytes, void** p) {
  size_t need;
  DcArenaChunk* c = NULL;
  int i;
  *p = NULL;
  if (bytes > SIZE_MAX - DC_ARENA_ALIGN) return DETCGD_ERR_ALLOC;
  need = ((bytes ? bytes : 1) + DC_ARENA_ALIGN - 1) / DC_ARENA_ALIGN * DC_ARENA_ALIGN;
  for (i = 0; i < a->nchunks && !c; ++i)
    if (a->chunks[i].size - a->chunks[i].top >= need) c = &a->chunks[i];
  if (!c && !(c = add_chunk(a, need > a->min_chunk ? need : a->min_chunk))) return DETCGD_ERR_ALLOC;
  if (reserve_one((void**)&c->allocs, &c->cap, c->nallocs, sizeof(DcArenaAlloc)) != DETCGD_OK) {
    if (c->nallocs == 0) drop_chunk(a, (int)(c - a->chunks));
    return DETCGD_ERR_ALLOC;
  }
  c->allocs[c->nallocs].offset = c->top;
  c->allocs[c->nallocs].size = need;
  c->allocs[c->nallocs].live = 1;
  ++c->nallocs;
  *p = c->base + c->top;
  c->top += need;
  a->in_use += need;
  note_peaks(a);
  return DETCGD_OK;
}

int dc_arena_free(DcArena* a, void* p) {
  uintptr_t u = (uintptr_t)p;
  int i, j;
  if (!p) return DETCGD_OK;
  for (i = 0; i < a->nchunks; ++i) {
    DcArenaChunk* c = &a->chunks[i];
    if (u < (uintptr_t)c->base || u >= (uintptr_t)c->base + c->size) continue;
    for (j = c->nallocs - 1; j >= 0 && (uintptr_t)(c->base + c->allocs[j].offset) != u; --j) {}
    if (j < 0 || !c->allocs[j].live) break;
    c->allocs[j].live = 0;
    a->in_use -= c->allocs[j].size;
    while (c->nallocs > 0 && !c->allocs[c->nallocs - 1].live) c->top = c->allocs[--c->nallocs].offset;
    if (c->nallocs == 0) drop_chunk(a, i);
    return DETCGD_OK;
  }
  return dc_fail(DETCGD_ERR_INTERNAL, "arena: %p is not a live allocation", p);
}

void dc_arena_destroy(DcArena* a) {
  while (a->nchunks > 0) drop_chunk(a, a->nchunks - 1);
  free(a->chunks);
  a->chunks = NULL;
  a->cap = 0;
  a->in_use = 0;
}
