/* libFuzzer target: config text through the INI parser and the key = value
 * setters, then the validators; nothing may crash or hang. */
#include <ini.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "detcgd.h"

typedef struct Target { DetcgdProblemSpec p; DetcgdSettings s; } Target;

static int on_entry(void* user, const char* section, const char* name, const char* value) {
  Target* t = (Target*)user;
  (void)section;
  if (detcgd_is_problem_key(name)) detcgd_problem_spec_set(&t->p, name, value);
  else detcgd_settings_set(&t->s, name, value);
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Target t;
  char* text = (char*)malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  detcgd_problem_spec_default(&t.p);
  detcgd_settings_default(&t.s);
  ini_parse_string(text, on_entry, &t);
  detcgd_settings_validate(&t.s);
  free(text);
  return 0;
}
