/*
 * settings.c -- defaults, setters and validation of the problem spec and the settings, all through the
 * option table (options.h); the checks that span several options are here.
 */
#include <math.h>
#include <string.h>
#include "compressor.h"
#include "internal.h"
#include "linalg.h"
#include "method.h"
#include "options.h"

/* ==== Setters ==== */

static int set_in(int in, DetcgdProblemSpec* p, DetcgdSettings* s, const char* key, const char* value) {
  const DcOption* o = dc_option_find(key);
  if (!o || o->in != in)
    return dc_fail(DETCGD_ERR_ARG, in == DC_IN_PROBLEM ? "unknown problem option \"%s\"" : "unknown option \"%s\"", key);
  return dc_option_set(o, p, s, value);
}

int detcgd_set(DetcgdProblemSpec* p, DetcgdSettings* s, const char* key, const char* value) {
  const DcOption* o;
  if (!p || !s || !key || !value) return dc_fail(DETCGD_ERR_ARG, "detcgd_set: NULL argument");
  if (!(o = dc_option_find(key))) return dc_fail(DETCGD_ERR_ARG, "unknown option \"%s\"", key);
  return dc_option_set(o, p, s, value);
}

int detcgd_is_problem_key(const char* key) {
  const DcOption* o = key ? dc_option_find(key) : NULL;
  return o && o->in == DC_IN_PROBLEM;
}

const char* detcgd_option_unread(const DetcgdProblemSpec* p, const DetcgdSettings* s, const char* key, int command) {
  const DcOption* o = key ? dc_option_find(key) : NULL;
  if (!o) return "not an option";
  return dc_option_unread(o, p, s, (unsigned)command);
}

size_t detcgd_config_format(const DetcgdProblemSpec* p, const DetcgdSettings* s, int changed_only, char* buf, size_t n) {
  DetcgdProblemSpec p0;
  DetcgdSettings s0;
  DcOptionIter it = {0, 0};
  const DcOption* o;
  size_t len = 0;
  detcgd_problem_spec_default(&p0);
  detcgd_settings_default(&s0);
  if (n > 0) buf[0] = '\0';
  while ((o = dc_option_next(&it, NULL, NULL, NULL))) {
    char v[DETCGD_LIST_MAX + 64], v0[DETCGD_LIST_MAX + 64];
    dc_option_format(o, p, s, v, sizeof v);
    dc_option_format(o, &p0, &s0, v0, sizeof v0);
    if (!changed_only || strcmp(v, v0)) len = dc_option_append_line(o, v, buf, n, len);
  }
  return len;
}

/* ==== Problem spec ==== */

void detcgd_problem_spec_default(DetcgdProblemSpec* s) {
  memset(s, 0, sizeof *s);
  dc_options_default(DC_IN_PROBLEM, s, NULL);
}

int detcgd_problem_spec_set(DetcgdProblemSpec* s, const char* key, const char* value) {
  if (!s || !key || !value) return dc_fail(DETCGD_ERR_ARG, "detcgd_problem_spec_set: NULL argument");
  return set_in(DC_IN_PROBLEM, s, NULL, key, value);
}

/* ==== Solver settings ==== */

void detcgd_settings_default(DetcgdSettings* s) {
  memset(s, 0, sizeof *s);
  dc_options_default(DC_IN_SETTINGS, NULL, s);
}

int detcgd_settings_set(DetcgdSettings* s, const char* key, const char* value) {
  if (!s || !key || !value) return dc_fail(DETCGD_ERR_ARG, "detcgd_settings_set: NULL argument");
  return set_in(DC_IN_SETTINGS, NULL, s, key, value);
}

#define DC_STREAM_X0 0xFFFFFF01u /* the starting point's N(0, 1) draws */

void detcgd_starting_point(const DetcgdSettings* s, int64_t d, double* x) {
  int64_t j;
  for (j = 0; j < d; ++j)
    x[j] = s->x0 / sqrt((double)d) + (s->x0_spread > 0 ? s->x0_spread * dc_gaussian(s->seed, DC_STREAM_X0, (uint32_t)j) : 0.0);
}

int detcgd_settings_validate(const DetcgdSettings* s) {
  const DcMethodType* m;
  int st;
  if (!s) return dc_fail(DETCGD_ERR_ARG, "settings: NULL");
  if (!(m = dc_method_type(s->method))) return dc_fail(DETCGD_ERR_ARG, "method: unknown value %d", s->method);
  if ((st = dc_compressor_validate(&s->sketch)) != DETCGD_OK) return st;
  if (!(m->step_flags & DC_STEP_NO_SKETCH) && !m->fixed_compressor &&
      (st = dc_method_check_compressor(m, dc_compressor_type(s->sketch.kind))) != DETCGD_OK)
    return st;
  if ((st = dc_options_check(DC_IN_SETTINGS, NULL, s)) != DETCGD_OK) return st;
  if (s->stepsize.kind == DETCGD_STEP_USER && s->stepsize.file[0] == '\0') return dc_fail(DETCGD_ERR_ARG, "stepsize-file: required with stepsize = user");
  if (s->comm.value_bits != 32 && s->comm.value_bits != 64) return dc_fail(DETCGD_ERR_ARG, "value-bits: must be 32 or 64 (got %d)", s->comm.value_bits);
  return DETCGD_OK;
}
