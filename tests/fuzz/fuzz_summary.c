/* libFuzzer target: a summary JSON through the replay reader (detcgd_summary_config) and every value it
 * yields through the option table's setter; nothing may crash, hang or read past the text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "detcgd.h"

typedef struct Target { DetcgdProblemSpec p; DetcgdSettings s; } Target;

static int on_entry(void* user, const char* key, const char* value) {
  Target* t = (Target*)user;
  detcgd_set(&t->p, &t->s, key, value); /* a bad value is an error of detcgd_set, not of the reader */
  return DETCGD_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static char path[64];
  Target t;
  FILE* f;
  if (!path[0]) snprintf(path, sizeof path, "/tmp/detcgd_fuzz_summary_%d.json", (int)getpid());
  if (!(f = fopen(path, "wb"))) return 0;
  fwrite(data, 1, size, f);
  fclose(f);
  detcgd_problem_spec_default(&t.p);
  detcgd_settings_default(&t.s);
  detcgd_summary_config(path, on_entry, &t);
  return 0;
}
