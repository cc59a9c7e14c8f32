/*
 * config_file.c -- the INI reader of config_file.h: a line at a time, of any length.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config_file.h"

static char* trim(char* s) {
  char* e;
  while (*s == ' ' || *s == '\t' || *s == '\r') ++s;
  e = s + strlen(s);
  while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) *--e = '\0';
  return s;
}

/* Cuts a comment off: a line starting with ';' or '#', or from a ';' after a space or tab (a '#' inside a
 * value stays: "label = run #3"). */
static void cut_comment(char* s) {
  char* p = s + strspn(s, " \t");
  if (*p == ';' || *p == '#') { *p = '\0'; return; }
  for (; *p; ++p)
    if (*p == ';' && (p[-1] == ' ' || p[-1] == '\t')) { *p = '\0'; return; }
}

/* One line (modified in place); 1 when it is good. */
static int parse_line(char* line, char* section, size_t cap, CliConfigEntry each, void* user) {
  char *s, *sep;
  cut_comment(line);
  s = trim(line);
  if (!*s) return 1;
  if (*s == '[') {
    char* close = strchr(s, ']');
    if (!close || close[1] != '\0') return 0;
    *close = '\0';
    snprintf(section, cap, "%s", trim(s + 1));
    return 1;
  }
  sep = s + strcspn(s, "=:");
  if (!*sep) return 0;
  *sep = '\0';
  if (!*trim(s)) return 0;
  return each(user, section, trim(s), trim(sep + 1));
}

/* Every line of text (modified in place: each line ends at its own NUL). */
static int parse_in_place(char* text, CliConfigEntry each, void* user) {
  char section[256] = "";
  char* p = text;
  int lineno = 0;
  if ((unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF) p += 3; /* BOM */
  while (*p) {
    char* eol = strchr(p, '\n');
    ++lineno;
    if (eol) *eol = '\0';
    if (!parse_line(p, section, sizeof section, each, user)) return lineno;
    if (!eol) break;
    p = eol + 1;
  }
  return 0;
}

int cli_config_parse_string(const char* text, CliConfigEntry each, void* user) {
  size_t n = strlen(text);
  char* copy = (char*)malloc(n + 1);
  int st;
  if (!copy) return 1;
  memcpy(copy, text, n + 1);
  st = parse_in_place(copy, each, user);
  free(copy);
  return st;
}

int cli_config_parse_file(const char* path, CliConfigEntry each, void* user) {
  FILE* f = fopen(path, "rb");
  char* text = NULL;
  size_t len = 0, cap = 0, got;
  int st;
  if (!f) return -1;
  do {
    if (cap - len < 4096) {
      char* grown = (char*)realloc(text, cap ? 2 * cap : 65536);
      if (!grown) { free(text); fclose(f); return -1; }
      text = grown;
      cap = cap ? 2 * cap : 65536;
    }
    got = fread(text + len, 1, cap - len - 1, f);
    len += got;
  } while (got > 0);
  fclose(f);
  text[len] = '\0';
  if (strlen(text) != len) { free(text); return 1; } /* a NUL byte: not a text file */
  st = parse_in_place(text, each, user);
  free(text);
  return st;
}
