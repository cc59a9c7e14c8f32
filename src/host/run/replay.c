/*
 * replay.c -- the configuration of a run read back from its summary JSON (detcgd_summary_config), so that
 * `detcgd run --replay summary.json` repeats it bit for bit.
 *
 * The summary's "config" object holds every option under its command-line key (trace.c writes it from the
 * option table); each value goes back through the table's setter as the text it was written as: numbers
 * keep every digit (a 64-bit seed is not rounded through a double), strings are unescaped, null is NaN.
 * The outputs of the run and its resume point are not replayed (rows flagged DC_OPT_NOT_REPLAYED).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "options.h"

typedef struct Json {
  const char* p;
  const char* start;
  const char* path;
} Json;

static int bad(const Json* j, const char* what) {
  return dc_fail(DETCGD_ERR_PARSE, "%s: not a detcgd summary at byte %ld: %s", j->path, (long)(j->p - j->start), what);
}

static void skip_space(Json* j) {
  while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r') ++j->p;
}

/* The character c next (the terminating NUL is never passed). */
static int expect_char(Json* j, char c, const char* what) {
  if (*j->p != c) return bad(j, what);
  ++j->p;
  return DETCGD_OK;
}

/* A string into out[0..cap) (UTF-8; \u escapes of the basic plane). */
static int read_string(Json* j, char* out, size_t cap) {
  size_t n = 0;
  if (*j->p != '"') return bad(j, "a string expected");
  for (++j->p; *j->p != '"'; ++j->p) {
    unsigned c = (unsigned char)*j->p;
    if (!c) return bad(j, "the string does not end");
    if (c == '\\') {
      ++j->p;
      switch (*j->p) {
        case '"': case '\\': case '/': c = (unsigned char)*j->p; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u': {
          char hex[5] = {0};
          int q;
          for (q = 0; q < 4; ++q) { /* stops at the NUL */
            if (!j->p[1 + q] || !strchr("0123456789abcdefABCDEF", j->p[1 + q])) return bad(j, "a bad \\u escape");
            hex[q] = j->p[1 + q];
          }
          c = (unsigned)strtoul(hex, NULL, 16);
          j->p += 4;
          if (c >= 0x80) { /* UTF-8, two or three bytes */
            if (n + 3 >= cap) return bad(j, "a string too long");
            if (c < 0x800) { out[n++] = (char)(0xC0 | (c >> 6)); c = 0x80 | (c & 0x3F); }
            else { out[n++] = (char)(0xE0 | (c >> 12)); out[n++] = (char)(0x80 | ((c >> 6) & 0x3F)); c = 0x80 | (c & 0x3F); }
          }
          break;
        }
        default: return bad(j, "a bad escape");
      }
    }
    if (n + 1 >= cap) return bad(j, "a string too long");
    out[n++] = (char)c;
  }
  ++j->p;
  out[n] = '\0';
  return DETCGD_OK;
}

/* A scalar's text: a number as written, true/false as 1/0, null as nan. */
static int read_scalar(Json* j, char* out, size_t cap) {
  size_t n = strspn(j->p, "+-0123456789.eE");
  if (*j->p == '"') return read_string(j, out, cap);
  if (!strncmp(j->p, "null", 4)) { j->p += 4; snprintf(out, cap, "nan"); return DETCGD_OK; }
  if (!strncmp(j->p, "true", 4)) { j->p += 4; snprintf(out, cap, "1"); return DETCGD_OK; }
  if (!strncmp(j->p, "false", 5)) { j->p += 5; snprintf(out, cap, "0"); return DETCGD_OK; }
  if (n == 0 || n >= cap) return bad(j, "a value expected");
  memcpy(out, j->p, n);
  out[n] = '\0';
  j->p += n;
  return DETCGD_OK;
}

/* Skips any value (objects and arrays nested, at most 32 deep). */
static int skip_value(Json* j, int depth) {
  char buf[DETCGD_PATH_MAX + DETCGD_LIST_MAX];
  skip_space(j);
  if ((*j->p == '{' || *j->p == '[') && depth >= 32) return bad(j, "values nested too deeply");
  if (*j->p == '{' || *j->p == '[') {
    char close = *j->p == '{' ? '}' : ']';
    ++j->p;
    skip_space(j);
    while (*j->p != close) {
      int st;
      if (close == '}') {
        if ((st = read_string(j, buf, sizeof buf)) != DETCGD_OK) return st;
        skip_space(j);
        if ((st = expect_char(j, ':', "':' expected")) != DETCGD_OK) return st;
      }
      if ((st = skip_value(j, depth + 1)) != DETCGD_OK) return st;
      skip_space(j);
      if (*j->p == ',') { ++j->p; skip_space(j); }
      else if (*j->p != close) return bad(j, "',' expected");
    }
    ++j->p;
    return DETCGD_OK;
  }
  return read_scalar(j, buf, sizeof buf);
}

int detcgd_summary_config(const char* path, int (*each)(void* ctx, const char* key, const char* value), void* ctx) {
  FILE* f;
  char* text;
  long n;
  Json j;
  int st = DETCGD_OK, found = 0;
  if (!path || !each) return dc_fail(DETCGD_ERR_ARG, "detcgd_summary_config: NULL argument");
  if (!(f = fopen(path, "rb"))) return dc_fail(DETCGD_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
  if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 || n > (64L << 20)) {
    fclose(f);
    return dc_fail(DETCGD_ERR_IO, "%s: not a summary file (no size, or over 64 MiB)", path);
  }
  if (!(text = (char*)dc_calloc((size_t)n + 1, 1))) { fclose(f); return DETCGD_ERR_ALLOC; }
  if (fread(text, 1, (size_t)n, f) != (size_t)n) st = dc_fail(DETCGD_ERR_IO, "%s: short read", path);
  fclose(f);
  j.p = j.start = text;
  j.path = path;
  skip_space(&j);
  if (st == DETCGD_OK) st = expect_char(&j, '{', "'{' expected");
  while (st == DETCGD_OK) { /* the top level: find "config" */
    char key[256];
    skip_space(&j);
    if (*j.p == '}') break;
    if ((st = read_string(&j, key, sizeof key)) != DETCGD_OK) break;
    skip_space(&j);
    if ((st = expect_char(&j, ':', "':' expected")) != DETCGD_OK) break;
    skip_space(&j);
    if (strcmp(key, "config") != 0) st = skip_value(&j, 0);
    else if ((st = expect_char(&j, '{', "the config is not an object")) == DETCGD_OK) {
      found = 1;
      for (skip_space(&j); st == DETCGD_OK && *j.p != '}'; skip_space(&j)) {
        char name[128], value[DETCGD_PATH_MAX + DETCGD_LIST_MAX];
        const DcOption* o;
        if ((st = read_string(&j, name, sizeof name)) != DETCGD_OK) break;
        skip_space(&j);
        if ((st = expect_char(&j, ':', "':' expected")) != DETCGD_OK) break;
        skip_space(&j);
        if ((st = read_scalar(&j, value, sizeof value)) != DETCGD_OK) break;
        o = dc_option_find(name);
        if (!o) st = dc_fail(DETCGD_ERR_PARSE, "%s: config key \"%s\" is no option of this detcgd", path, name);
        else if (!(o->flags & DC_OPT_NOT_REPLAYED)) st = each(ctx, name, value);
        skip_space(&j);
        if (st == DETCGD_OK && *j.p == ',') ++j.p;
        else if (st == DETCGD_OK && *j.p != '}') st = bad(&j, "',' expected");
      }
      if (st == DETCGD_OK) ++j.p; /* the config's '}' */
    }
    if (st != DETCGD_OK) break;
    skip_space(&j);
    if (*j.p == ',') ++j.p;
  }
  free(text);
  if (st == DETCGD_OK && !found) st = dc_fail(DETCGD_ERR_PARSE, "%s: no \"config\" object (not a detcgd summary)", path);
  return st;
}
