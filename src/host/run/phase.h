/*
 * phase.h -- the phases of an iteration, timed with profile = 1 and marked as NVTX ranges.
 */
#ifndef DETCGD_PHASE_H
#define DETCGD_PHASE_H

#include "backend.h"

typedef enum DcPhase { PH_GRAD = 0, PH_METRICS, PH_SKETCH, PH_APPLY, PH_COMM, PH_TRACE, PH_COUNT } DcPhase;

typedef struct DcPhases {
  DcBackend* be; /* borrowed */
  int profile;   /* 1: each phase waits for the backend and adds its time */
  double t0;
  double time[PH_COUNT];
} DcPhases;

/* Enters phase ph: an NVTX range, and with profile = 1 a clock. */
void dc_phase_begin(DcPhases* p, int ph);
/* Leaves phase ph; with profile = 1 waits for the backend and adds the time. */
int dc_phase_end(DcPhases* p, int ph);

#endif /* DETCGD_PHASE_H */
