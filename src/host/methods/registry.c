/*
 * registry.c -- every method, in DetcgdMethod order, and the check of a method's needs against its
 * compressor.
 */
#include <string.h>
#include "method.h"
#include "problem.h"

static const DcMethodType* const METHODS[] = {
    &dc_method_gd,        &dc_method_det_cgd1, &dc_method_det_cgd2,  &dc_method_sign,      &dc_method_scaled_sign,
    &dc_method_ef21,      &dc_method_ef21_norm, &dc_method_ef14,     &dc_method_sign_vote, &dc_method_signum,
    &dc_method_ef21_sgdm, &dc_method_ef21_sgdm_norm, &dc_method_ef21_hb, &dc_method_dcgd,     &dc_method_diana,
    &dc_method_marina,    &dc_method_dasha,  &dc_method_sega,
    &dc_method_vr_diana, &dc_method_det_marina, &dc_method_det_dasha,
    &dc_method_dasha_page};
#define NMETHODS ((int)(sizeof METHODS / sizeof METHODS[0]))

const DcMethodType* dc_method_type(int id) { return id >= 0 && id < NMETHODS ? METHODS[id] : NULL; }

const DcMethodType* dc_method_find(const char* name) {
  int i;
  for (i = 0; i < NMETHODS; ++i)
    if (strcmp(METHODS[i]->name, name) == 0) return METHODS[i];
  return NULL;
}

static const char* method_name(int i) { return METHODS[i]->name; }
void dc_method_list(char* out, size_t n) { dc_join_names(out, n, NMETHODS, method_name); }

int dc_method_sketch_spec(DcSketchSpec* sp, const DcMethodType* m, const DetcgdSettings* s, const DetcgdProblem* p) {
  if (m->fixed_compressor) {
    DetcgdSketchSettings fixed = s->sketch;
    fixed.kind = m->fixed_compressor->kind;
    return dc_sketch_spec_build(sp, &fixed, &s->comm, p);
  }
  if ((m->step_flags & DC_STEP_NO_SKETCH) || s->sketch.kind == DETCGD_SKETCH_IDENTITY)
    return dc_sketch_spec_identity(sp, &p->layout, &s->comm);
  return dc_sketch_spec_build(sp, &s->sketch, &s->comm, p);
}

int dc_method_facts_copy(const DcMethodFact* f, int n, DcMethodFact* out, int cap) {
  int i;
  for (i = 0; i < n && i < cap; ++i) out[i] = f[i];
  return i;
}

int dc_method_check_compressor(const DcMethodType* m, const DcCompressorType* t) {
  if ((m->needs & DC_NEEDS_LINEAR) && !(t->flags & DC_CF_LINEAR))
    return dc_fail(DETCGD_ERR_ARG, "sketch: %s needs a linear sketch S (its stepsize theory is E[S L S]); %s is not linear",
                   m->name, t->name);
  if ((m->needs & DC_NEEDS_UNBIASED) && t->cls != DC_CC_UNBIASED)
    return dc_fail(DETCGD_ERR_ARG, "sketch: %s needs an unbiased compressor (E[C(x)] = x); %s is %s", m->name, t->name,
                   dc_compress_class_name(t->cls));
  if ((m->needs & DC_NEEDS_CONTRACTIVE) && t->cls != DC_CC_CONTRACTIVE && t->kind != DC_SK_IDENTITY) {
    if (t->kind == DC_SK_RANDK || t->kind == DC_SK_RAND1)
      return dc_fail(DETCGD_ERR_ARG, "sketch: %s needs a contractive compressor (E||C(x) - x||^2 <= (1 - alpha) ||x||^2); "
                     "%s is unbiased, scaled by m/k, and not contractive when k < m/2: use rand-k-c (unscaled) or top-k",
                     m->name, t->name);
    return dc_fail(DETCGD_ERR_ARG, "sketch: %s needs a contractive compressor (E||C(x) - x||^2 <= (1 - alpha) ||x||^2); "
                   "%s is %s", m->name, t->name, dc_compress_class_name(t->cls));
  }
  return DETCGD_OK;
}
