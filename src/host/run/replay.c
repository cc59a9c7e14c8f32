/*
 * replay.c -- the configuration of a run read back from its summary JSON (detcgd_summary_config), so that
 * `detcgd run --replay summary.json` repeats it bit for bit.
 *
 * The summary's "config" object holds every option under its command-line key (trace.c writes it from the
 * option table); each value goes back through the table's setter as the text it was written as: numbers
 * keep every digit (json-c keeps a number's text: a 64-bit seed is not rounded through a double), strings are
 * unescaped, null is NaN.
 * The outputs of the run and its resume point are not replayed (rows flagged DC_OPT_NOT_REPLAYED).
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "options.h"

/* The file's bytes (at most 64 MiB) with a NUL after them. */
static int read_text(const char* path, char** text, size_t* len) {
  FILE* f = fopen(path, "rb");
  long n;
  int st = DETCGD_OK;
  *text = NULL;
  if (!f) return dc_fail(DETCGD_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
  if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 || n > (64L << 20)) {
    fclose(f);
    return dc_fail(DETCGD_ERR_IO, "%s: not a summary file (no size, or over 64 MiB)", path);
  }
  if (!(*text = (char*)dc_calloc((size_t)n + 1, 1))) { fclose(f); return DETCGD_ERR_ALLOC; }
  if (fread(*text, 1, (size_t)n, f) != (size_t)n) st = dc_fail(DETCGD_ERR_IO, "%s: short read", path);
  fclose(f);
  *len = (size_t)n;
  return st;
}

/* The JSON document of text: strict JSON (nothing but white space after it) in valid UTF-8. */
static int parse(const char* path, const char* text, size_t len, json_object** doc) {
  json_tokener* tok = json_tokener_new();
  enum json_tokener_error e;
  if (!tok) return DETCGD_ERR_ALLOC;
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
  *doc = len <= 0x7fffffff ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
  e = json_tokener_get_error(tok);
  if (!*doc) {
    int st = dc_fail(DETCGD_ERR_PARSE, "%s: not a detcgd summary at byte %zu: %s", path, json_tokener_get_parse_end(tok),
                     e == json_tokener_continue ? "the document does not end" : json_tokener_error_desc(e));
    json_tokener_free(tok);
    return st;
  }
  json_tokener_free(tok);
  return DETCGD_OK;
}

/* A config value as the text the option's setter reads: a number as written, true/false as 1/0, null as nan. */
static const char* value_text(json_object* v) {
  switch (json_object_get_type(v)) {
    case json_type_null: return "nan";
    case json_type_boolean: return json_object_get_boolean(v) ? "1" : "0";
    case json_type_string: return json_object_get_string(v);
    case json_type_int: case json_type_double: return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    default: return NULL;
  }
}

int detcgd_summary_config(const char* path, int (*each)(void* ctx, const char* key, const char* value), void* ctx) {
  json_object *doc = NULL, *config = NULL;
  char* text = NULL;
  size_t len = 0;
  int st;
  if (!path || !each) return dc_fail(DETCGD_ERR_ARG, "detcgd_summary_config: NULL argument");
  st = read_text(path, &text, &len);
  if (st == DETCGD_OK) st = parse(path, text, len, &doc);
  free(text);
  if (st == DETCGD_OK && (!json_object_is_type(doc, json_type_object) || !json_object_object_get_ex(doc, "config", &config)))
    st = dc_fail(DETCGD_ERR_PARSE, "%s: no \"config\" object (not a detcgd summary)", path);
  if (st == DETCGD_OK && !json_object_is_type(config, json_type_object))
    st = dc_fail(DETCGD_ERR_PARSE, "%s: not a detcgd summary: the config is not an object", path);
  if (st == DETCGD_OK) {
    json_object_object_foreach(config, name, v) {
      const DcOption* o = dc_option_find(name);
      const char* value = value_text(v);
      if (!o) st = dc_fail(DETCGD_ERR_PARSE, "%s: config key \"%s\" is no option of this detcgd", path, name);
      else if (!value) st = dc_fail(DETCGD_ERR_PARSE, "%s: config key \"%s\" holds no single value", path, name);
      else if (!(o->flags & DC_OPT_NOT_REPLAYED)) st = each(ctx, name, value);
      if (st != DETCGD_OK) break;
    }
  }
  json_object_put(doc);
  return st;
}
