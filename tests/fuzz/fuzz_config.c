/* libFuzzer target: config text through the config-file reader (cli/config_file.c), the option table's setter and unread check, then
 * the validators; the configuration formatted as "key = value" lines and set again from them must give the
 * same text.  Nothing may crash or
 * hang. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "config_file.h"
#include "detcgd.h"

typedef struct Target { DetcgdProblemSpec p; DetcgdSettings s; } Target;

static int on_entry(void* user, const char* section, const char* name, const char* value) {
  Target* t = (Target*)user;
  (void)section;
  if (detcgd_set(&t->p, &t->s, name, value) == DETCGD_OK) (void)detcgd_option_unread(&t->p, &t->s, name, DETCGD_CMD_RUN);
  return 1;
}

static char text_a[65536], text_b[65536];

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Target t, back;
  char *line, *eol;
  char* text = (char*)malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  detcgd_problem_spec_default(&t.p);
  detcgd_settings_default(&t.s);
  cli_config_parse_string(text, on_entry, &t);
  detcgd_settings_validate(&t.s);
  free(text);
  if (detcgd_config_format(&t.p, &t.s, 1, text_a, sizeof text_a) >= sizeof text_a) return 0;
  detcgd_problem_spec_default(&back.p);
  detcgd_settings_default(&back.s);
  for (line = text_a; *line; line = eol + 1) { /* "key = value" lines: each value sets its key again */
    char* eq = strstr(line, " = ");
    eol = strchr(line, '\n');
    if (!eq || !eol || eq > eol) abort();
    *eq = *eol = '\0';
    if (detcgd_set(&back.p, &back.s, line, eq + 3) != DETCGD_OK) abort();
    *eq = ' ';
    *eol = '\n';
  }
  detcgd_config_format(&back.p, &back.s, 1, text_b, sizeof text_b);
  if (strcmp(text_a, text_b) != 0) abort(); /* the same configuration */
  return 0;
}
