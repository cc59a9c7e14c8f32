/*
 * phase.c -- the phases of an iteration (phase.h).
 */
#include "internal.h"
#include "phase.h"

static const char* const PHASE_NAMES[PH_COUNT] = {"gradient", "metrics", "sketch", "apply", "communication", "trace"};

void dc_phase_begin(DcPhases* p, int ph) {
  p->be->ops->range(p->be, PHASE_NAMES[ph]);
  if (p->profile) p->t0 = dc_wall_time();
}

int dc_phase_end(DcPhases* p, int ph) {
  int st = DETCGD_OK;
  if (p->profile) {
    st = p->be->ops->sync(p->be);
    p->time[ph] += dc_wall_time() - p->t0;
  }
  p->be->ops->range(p->be, NULL);
  return st;
}
