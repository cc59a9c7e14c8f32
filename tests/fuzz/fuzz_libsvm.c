/* libFuzzer target: the LIBSVM reader must accept or reject any bytes cleanly. */
#include <stddef.h>
#include <stdint.h>
#include "libsvm.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  DcLibsvm d;
  if (dc_libsvm_parse((const char*)data, size, "fuzz.svm", &d) == 0) {
    int64_t j;
    for (j = 0; j < d.nnz; ++j)
      if (d.colidx[j] < 0 || d.colidx[j] >= d.max_index) __builtin_trap();
    dc_libsvm_free(&d);
  }
  return 0;
}
