/*
 * codec.c -- a message of a compressor of the values as bytes and back (codec.h), bit-packed, least significant
 * bit first.
 */
#include <math.h>
#include <string.h>
#include "codec.h"
#include "value_ops.h"

/* ---- bits ---- */

typedef struct BitWriter { unsigned char* p; int64_t pos; } BitWriter;
typedef struct BitReader { const unsigned char* p; int64_t pos, end; } BitReader;

static void put_bits(BitWriter* w, uint64_t v, int n) {
  int i;
  for (i = 0; i < n; ++i, ++w->pos)
    if ((v >> i) & 1u) w->p[w->pos >> 3] |= (unsigned char)(1u << (w->pos & 7));
}

/* 0 when the message ends first */
static int get_bits(BitReader* r, int n, uint64_t* v) {
  int i;
  if (r->pos + n > r->end) return 0;
  for (*v = 0, i = 0; i < n; ++i, ++r->pos) *v |= (uint64_t)((r->p[r->pos >> 3] >> (r->pos & 7)) & 1u) << i;
  return 1;
}

/* a value as value_bits bits: a float's or a double's pattern (the values op rounded it already) */
static void put_value(BitWriter* w, double v, int value_bits) {
  uint64_t b;
  if (value_bits == 32) {
    float f = (float)v;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    b = u;
  } else {
    memcpy(&b, &v, sizeof b);
  }
  put_bits(w, b, value_bits);
}

static int get_value(BitReader* r, int value_bits, double* v) {
  uint64_t b;
  if (!get_bits(r, value_bits, &b)) return 0;
  if (value_bits == 32) {
    uint32_t u = (uint32_t)b;
    float f;
    memcpy(&f, &u, sizeof f);
    *v = f;
  } else {
    memcpy(v, &b, sizeof b);
  }
  return 1;
}

static int is_plus_zero(double v) {
  uint64_t b;
  memcpy(&b, &v, sizeof b);
  return b == 0;
}

/* natural: exponent fields of the value format */
static int exponent_bits(int value_bits) { return value_bits == 32 ? 8 : 11; }
static int exponent_bias(int value_bits) { return value_bits == 32 ? 127 : 1023; }

int64_t dc_codec_bytes(const DcSketchSpec* sp) {
  int64_t bits = 0;
  int i;
  for (i = 0; i < sp->layout->nblocks; ++i) {
    const DcSketchLayer* L = &sp->layers[i];
    bits += L->kind == DC_SK_IDENTITY ? (int64_t)L->m * sp->value_bits
                                      : dc_value_layer_bits(L, sp->value_bits, sp->send_indices, dc_index_bits(L->m));
  }
  return (bits + 7) / 8;
}

/* ---- encode ---- */

/* top-k and rand-k-c without a shared seed: k (index, value) pairs, the entries other than +0.0 first */
static int encode_kept(BitWriter* w, const DcSketchLayer* L, const double* y, int value_bits, int i) {
  int j, n = 0, b = dc_index_bits(L->m);
  for (j = 0; j < L->m; ++j)
    if (!is_plus_zero(y[j])) {
      if (++n > L->k) return dc_fail(DETCGD_ERR_INTERNAL, "codec: layer %d keeps more than k = %d values", i, L->k);
      put_bits(w, (uint64_t)j, b);
      put_value(w, y[j], value_bits);
    }
  for (j = 0; j < L->m && n < L->k; ++j)
    if (is_plus_zero(y[j])) {
      put_bits(w, (uint64_t)j, b);
      put_value(w, 0.0, value_bits);
      ++n;
    }
  return DETCGD_OK;
}

static int encode_layer(BitWriter* w, const DcSketchSpec* sp, int i, const double* y, const DcSketchDraw* d) {
  const DcSketchLayer* L = &sp->layers[i];
  int j, vb = sp->value_bits;
  switch (L->kind) {
    case DC_SK_TOPK: return encode_kept(w, L, y, vb, i);
    case DC_SK_RANDK_C:
      if (sp->send_indices) return encode_kept(w, L, y, vb, i);
      for (j = 0; j < L->k; ++j) put_value(w, y[d->idx[sp->cap_off[i] + j]], vb); /* in draw order */
      return DETCGD_OK;
    case DC_SK_SIGN:
      for (j = 0; j < L->m; ++j) {
        if (y[j] != 1.0 && y[j] != -1.0) return dc_fail(DETCGD_ERR_INTERNAL, "codec: sign value %g", y[j]);
        put_bits(w, y[j] < 0, 1);
      }
      return DETCGD_OK;
    case DC_SK_SCALED_SIGN:
      put_value(w, fabs(y[0]), vb);
      for (j = 0; j < L->m; ++j) {
        if (fabs(y[j]) != fabs(y[0])) return dc_fail(DETCGD_ERR_INTERNAL, "codec: scaled sign of two magnitudes");
        put_bits(w, signbit(y[j]) != 0, 1);
      }
      return DETCGD_OK;
    case DC_SK_QSGD: {
      double norm = d->scale[sp->cap_off[i]], s = L->levels;
      int lb = dc_qsgd_level_bits(L->levels);
      put_value(w, norm, vb);
      for (j = 0; j < L->m; ++j) {
        double level = norm > 0 ? nearbyint(fabs(y[j]) * s / norm) : 0.0;
        if (!(level >= 0 && level <= s) || norm * level / s != fabs(y[j]))
          return dc_fail(DETCGD_ERR_INTERNAL, "codec: %g is no QSGD level of norm %g", y[j], norm);
        put_bits(w, signbit(y[j]) != 0, 1);
        put_bits(w, (uint64_t)level, lb);
      }
      return DETCGD_OK;
    }
    case DC_SK_NATURAL:
      for (j = 0; j < L->m; ++j) {
        uint64_t b;
        double t = fabs(y[j]);
        int e;
        memcpy(&b, &t, sizeof b);
        e = t == 0 ? 0 : (int)(b >> 52) - 1023 + exponent_bias(vb);
        if ((b & 0xfffffffffffffull) || e < 0 || e >= (1 << exponent_bits(vb)) - 1)
          return dc_fail(DETCGD_ERR_INTERNAL, "codec: %g is no power of two of %d-bit values", y[j], vb);
        put_bits(w, signbit(y[j]) != 0, 1);
        put_bits(w, (uint64_t)e, exponent_bits(vb));
      }
      return DETCGD_OK;
    default: /* identity */
      for (j = 0; j < L->m; ++j) put_value(w, y[j], vb);
      return DETCGD_OK;
  }
}

int dc_codec_encode(const DcSketchSpec* sp, const double* y, const DcSketchDraw* d, unsigned char* out) {
  BitWriter w = {out, 0};
  int i, st = DETCGD_OK;
  memset(out, 0, (size_t)dc_codec_bytes(sp));
  for (i = 0; i < sp->layout->nblocks && st == DETCGD_OK; ++i) st = encode_layer(&w, sp, i, y + sp->layout->voff[i], d);
  return st;
}

/* ---- decode ---- */

static const char* decode_kept(BitReader* r, const DcSketchLayer* L, int vb, unsigned char* mark, double* y) {
  int t, b = dc_index_bits(L->m);
  const char* why = NULL;
  uint64_t idx[1];
  for (t = 0; t < L->k && !why; ++t) {
    double v;
    if (!get_bits(r, b, idx) || !get_value(r, vb, &v)) why = "message too short";
    else if (idx[0] >= (uint64_t)L->m) why = "index out of range";
    else if (mark[idx[0]]) why = "repeated index";
    else if (!isfinite(v)) why = "non-finite value";
    else { mark[idx[0]] = 1; y[idx[0]] = v; }
  }
  for (t = 0; t < L->m; ++t) mark[t] = 0;
  return why;
}

static const char* decode_layer(BitReader* r, const DcSketchSpec* sp, int i, uint64_t seed, uint32_t iter,
                                uint32_t client, const DcSketchDraw* draw, unsigned char* mark, double* y) {
  const DcSketchLayer* L = &sp->layers[i];
  int j, vb = sp->value_bits;
  uint64_t b;
  double v, s;
  for (j = 0; j < L->m; ++j) y[j] = 0.0;
  switch (L->kind) {
    case DC_SK_TOPK: return decode_kept(r, L, vb, mark, y);
    case DC_SK_RANDK_C: { /* with a shared seed, the server's own draw of the k indices */
      int* kept = draw->idx + sp->cap_off[i];
      if (sp->send_indices) return decode_kept(r, L, vb, mark, y);
      dc_draw_randk(L, seed, iter, client, (uint32_t)i, kept, draw->scale + sp->cap_off[i], L->k > 32 ? mark : NULL);
      for (j = 0; j < L->k; ++j) {
        if (!get_value(r, vb, &v)) return "message too short";
        if (!isfinite(v)) return "non-finite value";
        y[kept[j]] = v;
      }
      return NULL;
    }
    case DC_SK_SIGN:
      for (j = 0; j < L->m; ++j) {
        if (!get_bits(r, 1, &b)) return "message too short";
        y[j] = b ? -1.0 : 1.0;
      }
      return NULL;
    case DC_SK_SCALED_SIGN:
      if (!get_value(r, vb, &s)) return "message too short";
      if (!(s >= 0) || !isfinite(s)) return "scaled sign: the scale is negative or not finite";
      for (j = 0; j < L->m; ++j) {
        if (!get_bits(r, 1, &b)) return "message too short";
        y[j] = b ? -s : s;
      }
      return NULL;
    case DC_SK_QSGD: {
      int lb = dc_qsgd_level_bits(L->levels);
      double norm;
      if (!get_value(r, vb, &norm)) return "message too short";
      if (!(norm >= 0) || !isfinite(norm)) return "QSGD: the norm is negative or not finite";
      for (j = 0; j < L->m; ++j) {
        uint64_t level;
        if (!get_bits(r, 1, &b) || !get_bits(r, lb, &level)) return "message too short";
        if (level > (uint64_t)L->levels) return "QSGD: a level above s";
        y[j] = copysign(norm * (double)level / (double)L->levels, b ? -1.0 : 1.0);
      }
      return NULL;
    }
    case DC_SK_NATURAL:
      for (j = 0; j < L->m; ++j) {
        uint64_t e;
        if (!get_bits(r, 1, &b) || !get_bits(r, exponent_bits(vb), &e)) return "message too short";
        if (e == (uint64_t)(1 << exponent_bits(vb)) - 1) return "natural: an infinite or NaN exponent";
        y[j] = copysign(e == 0 ? 0.0 : ldexp(1.0, (int)e - exponent_bias(vb)), b ? -1.0 : 1.0);
      }
      return NULL;
    default:
      for (j = 0; j < L->m; ++j) {
        if (!get_value(r, vb, &y[j])) return "message too short";
        if (!isfinite(y[j])) return "non-finite value";
      }
      return NULL;
  }
}

const char* dc_codec_decode(const DcSketchSpec* sp, const unsigned char* in, int64_t len, uint64_t seed, uint32_t iter,
                            uint32_t client, const DcSketchDraw* draw, unsigned char* mark, double* y) {
  BitReader r = {in, 0, 8 * len};
  const char* why = NULL;
  int i;
  if (len != dc_codec_bytes(sp)) return "wrong message length";
  for (i = 0; i < sp->layout->nblocks && !why; ++i)
    why = decode_layer(&r, sp, i, seed, iter, client, draw, mark, y + sp->layout->voff[i]);
  return why;
}
