/*
 * libsvm.c -- the LIBSVM reader (see libsvm.h for what it accepts).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include "internal.h"
#include "libsvm.h"

typedef struct Growth { int64_t rows_cap, idx_cap, val_cap; } Growth;

static int grow(void** p, int64_t* cap, int64_t need, size_t elem) {
  void* np;
  int64_t ncap;
  if (need <= *cap) return DETCGD_OK;
  ncap = *cap ? *cap : 1024;
  while (ncap < need) ncap *= 2;
  np = realloc(*p, (size_t)ncap * elem);
  if (!np) return dc_fail(DETCGD_ERR_ALLOC, "out of host memory reading LIBSVM data");
  *p = np;
  *cap = ncap;
  return DETCGD_OK;
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

/* Parses one line (NUL-terminated, no '\n'); appends a row unless it is blank. */
static int parse_line(char* line, const char* name, int64_t lineno, DcLibsvm* d, Growth* g) {
  char *p = line, *end;
  double lab;
  long prev = 0;
  char* hash = strchr(line, '#');
  if (hash) *hash = '\0';
  while (is_blank(*p)) ++p;
  if (*p == '\0') return DETCGD_OK;
  errno = 0;
  lab = strtod(p, &end);
  if (end == p || errno || !isfinite(lab) || !(*end == '\0' || is_blank(*end)))
    return dc_fail(DETCGD_ERR_PARSE, "%s:%lld: cannot read the label", name, (long long)lineno);
  p = end;
  if (grow((void**)&d->label, &g->rows_cap, d->nrows + 1, sizeof(double)) != DETCGD_OK)
    return DETCGD_ERR_ALLOC;
  for (;;) {
    long idx;
    double v;
    while (is_blank(*p)) ++p;
    if (*p == '\0') break;
    errno = 0;
    idx = strtol(p, &end, 10);
    if (end == p || *end != ':' || errno)
      return dc_fail(DETCGD_ERR_PARSE, "%s:%lld: expected index:value, got \"%.20s\"", name, (long long)lineno, p);
    if (idx <= 0 || idx > INT_MAX)
      return dc_fail(DETCGD_ERR_PARSE, "%s:%lld: feature index %ld out of range (indices start at 1)", name, (long long)lineno, idx);
    if (idx <= prev)
      return dc_fail(DETCGD_ERR_PARSE, "%s:%lld: feature index %ld after %ld (indices must increase)", name, (long long)lineno, idx, prev);
    p = end + 1;
    errno = 0;
    v = strtod(p, &end);
    if (end == p || errno == ERANGE || !isfinite(v) || !(*end == '\0' || is_blank(*end)))
      return dc_fail(DETCGD_ERR_PARSE, "%s:%lld: bad value for feature %ld", name, (long long)lineno, idx);
    p = end;
    if (grow((void**)&d->colidx, &g->idx_cap, d->nnz + 1, sizeof(int32_t)) != DETCGD_OK ||
        grow((void**)&d->val, &g->val_cap, d->nnz + 1, sizeof(double)) != DETCGD_OK)
      return DETCGD_ERR_ALLOC;
    d->colidx[d->nnz] = (int32_t)(idx - 1);
    d->val[d->nnz] = v;
    d->nnz++;
    if (idx > d->max_index) d->max_index = (int)idx;
    prev = idx;
  }
  d->label[d->nrows++] = lab;
  return DETCGD_OK;
}

/* The label of the row just read is one of at most two distinct labels so far (seen[0..*nseen)). */
static int check_label(double lab, double seen[2], int* nseen, const char* name, int64_t lineno) {
  if (*nseen > 0 && lab == seen[0]) return DETCGD_OK;
  if (*nseen > 1 && lab == seen[1]) return DETCGD_OK;
  if (*nseen == 2)
    return dc_fail(DETCGD_ERR_PARSE, "%s:%lld: a third label %g (binary labels only: %g and %g seen before)", name,
                   (long long)lineno, lab, seen[0], seen[1]);
  seen[(*nseen)++] = lab;
  return DETCGD_OK;
}

/* Maps the labels (the nseen <= 2 distinct ones read, in seen) to -1 (smaller) and +1 (larger). */
static int map_labels(DcLibsvm* d, const char* name, const double seen[2], int nseen) {
  double lo, hi;
  int64_t j;
  if (nseen == 0) return dc_fail(DETCGD_ERR_PARSE, "%s: no data rows", name);
  lo = nseen == 2 ? fmin(seen[0], seen[1]) : seen[0];
  hi = nseen == 2 ? fmax(seen[0], seen[1]) : seen[0];
  if (lo == hi) {
    dc_log(DETCGD_LOG_WARN, "%s: every row has label %g; mapped to %s\n", name, lo, lo > 0 ? "+1" : "-1");
    if (lo > 0) lo = -INFINITY; else hi = INFINITY;
  }
  for (j = 0; j < d->nrows; ++j) d->label[j] = d->label[j] == hi ? 1.0 : -1.0;
  d->raw_label[0] = lo;
  d->raw_label[1] = hi;
  return DETCGD_OK;
}

int dc_libsvm_parse(const char* buf, size_t len, const char* name, DcLibsvm* d) {
  Growth g = {0, 0, 0};
  int64_t rowptr_cap = 0, lineno = 0;
  size_t pos = 0, linecap = 256;
  double labels_seen[2];
  int nlabels = 0;
  char* line = (char*)malloc(linecap);
  int st = DETCGD_OK;
  memset(d, 0, sizeof *d);
  if (!line) return dc_fail(DETCGD_ERR_ALLOC, "out of host memory");
  while (pos < len && st == DETCGD_OK) {
    size_t e = pos, n;
    while (e < len && buf[e] != '\n') ++e;
    n = e - pos;
    ++lineno;
    if (n + 1 > linecap) {
      char* nl;
      while (linecap < n + 1) linecap *= 2;
      nl = (char*)realloc(line, linecap);
      if (!nl) { st = dc_fail(DETCGD_ERR_ALLOC, "out of host memory"); break; }
      line = nl;
    }
    memcpy(line, buf + pos, n);
    line[n] = '\0';
    if (memchr(line, '\0', n)) st = dc_fail(DETCGD_ERR_PARSE, "%s:%lld: NUL byte in line", name, (long long)lineno);
    else st = grow((void**)&d->rowptr, &rowptr_cap, d->nrows + 2, sizeof(int64_t));
    if (st == DETCGD_OK) {
      int64_t rows_before = d->nrows;
      d->rowptr[d->nrows] = d->nnz;
      st = parse_line(line, name, lineno, d, &g);
      d->rowptr[d->nrows] = d->nnz;
      if (st == DETCGD_OK && d->nrows > rows_before)
        st = check_label(d->label[rows_before], labels_seen, &nlabels, name, lineno);
    }
    pos = e + 1;
  }
  free(line);
  if (st == DETCGD_OK) st = map_labels(d, name, labels_seen, nlabels);
  if (st != DETCGD_OK) dc_libsvm_free(d);
  return st;
}

/* The whole file read as a stream (zlib: gzip or plain bytes; pipes and FIFOs too), after a stat that turns
 * away directories and other non-files with a message naming them. */
int dc_libsvm_read(const char* path, DcLibsvm* out) {
  struct stat sb;
  gzFile f;
  char* buf = NULL;
  size_t len = 0, cap = 0;
  int n, st;
  memset(out, 0, sizeof *out);
  if (stat(path, &sb) != 0) return dc_fail(DETCGD_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
  if (S_ISDIR(sb.st_mode)) return dc_fail(DETCGD_ERR_IO, "%s: is a directory, not a LIBSVM file", path);
  if (!S_ISREG(sb.st_mode) && !S_ISFIFO(sb.st_mode) && !S_ISCHR(sb.st_mode))
    return dc_fail(DETCGD_ERR_IO, "%s: not a file, a pipe or a FIFO", path);
  if (!(f = gzopen(path, "rb"))) return dc_fail(DETCGD_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
  do {
    if (cap - len < 65536) {
      size_t grown_cap = cap ? 2 * cap : 1 << 20;
      char* grown = (char*)realloc(buf, grown_cap + 1);
      if (!grown) {
        free(buf);
        gzclose(f);
        return dc_fail(DETCGD_ERR_ALLOC, "%s: out of memory reading it (%zu bytes so far)", path, len);
      }
      buf = grown;
      cap = grown_cap;
    }
    n = gzread(f, buf + len, (unsigned)(cap - len < 1u << 30 ? cap - len : 1u << 30));
    if (n > 0) len += (size_t)n;
  } while (n > 0);
  if (n < 0) {
    int code;
    const char* why = gzerror(f, &code);
    char msg[256];
    snprintf(msg, sizeof msg, "%s", code == Z_ERRNO ? strerror(errno) : why);
    free(buf);
    gzclose(f);
    return dc_fail(DETCGD_ERR_IO, "%s: cannot read (%s)", path, msg);
  }
  gzclose(f);
  st = dc_libsvm_parse(buf ? buf : "", len, path, out);
  free(buf);
  return st;
}

/* One row's entries from the caller's arrays: CSR (columns increasing) or a dense row with its zeros dropped. */
static int copy_row(const DetcgdData* a, int64_t r, DcLibsvm* d) {
  int64_t e, lo = a->indptr ? a->indptr[r] : 0, hi = a->indptr ? a->indptr[r + 1] : a->ncols;
  int64_t prev = -1;
  if (a->indptr && (lo < a->indptr[0] || hi < lo || hi > a->indptr[a->nrows]))
    return dc_fail(DETCGD_ERR_ARG, "data: indptr[%lld] = %lld, indptr[%lld] = %lld (offsets must not decrease)",
                   (long long)r, (long long)lo, (long long)(r + 1), (long long)hi);
  for (e = lo; e < hi; ++e) {
    int64_t col = a->indptr ? a->indices[e] : e;
    double v = a->indptr ? a->values[e] : a->values[r * a->ncols + e];
    if (!isfinite(v))
      return dc_fail(DETCGD_ERR_ARG, "data: row %lld, column %lld: value %g is not finite", (long long)r, (long long)col, v);
    if (!a->indptr && v == 0.0) continue;
    if (col < 0 || col >= a->ncols)
      return dc_fail(DETCGD_ERR_ARG, "data: row %lld: column index %lld outside [0, %lld)", (long long)r, (long long)col,
                     (long long)a->ncols);
    if (col <= prev)
      return dc_fail(DETCGD_ERR_ARG, "data: row %lld: column %lld after %lld (indices must increase within a row)",
                     (long long)r, (long long)col, (long long)prev);
    d->colidx[d->nnz] = (int32_t)col;
    d->val[d->nnz++] = v;
    if (col + 1 > d->max_index) d->max_index = (int)(col + 1);
    prev = col;
  }
  d->rowptr[r + 1] = d->nnz;
  return DETCGD_OK;
}

int dc_libsvm_from_arrays(const DetcgdData* a, DcLibsvm* d) {
  int64_t r, cap;
  double seen[2];
  int nseen = 0, st = DETCGD_OK;
  memset(d, 0, sizeof *d);
  if (!a) return dc_fail(DETCGD_ERR_ARG, "data: NULL");
  if (a->nrows < 1 || a->ncols < 1 || a->ncols > INT_MAX)
    return dc_fail(DETCGD_ERR_ARG, "data: %lld rows of %lld columns (need at least one of each, columns <= %d)",
                   (long long)a->nrows, (long long)a->ncols, INT_MAX);
  if (!a->values || !a->labels || (a->indptr && !a->indices))
    return dc_fail(DETCGD_ERR_ARG, "data: %s is NULL", !a->values ? "values" : !a->labels ? "labels" : "indices");
  if (a->indptr && a->indptr[0] != 0) return dc_fail(DETCGD_ERR_ARG, "data: indptr[0] = %lld (must be 0)", (long long)a->indptr[0]);
  if (!a->indptr && a->nrows > INT64_MAX / a->ncols)
    return dc_fail(DETCGD_ERR_ARG, "data: %lld x %lld dense rows overflow", (long long)a->nrows, (long long)a->ncols);
  cap = a->indptr ? a->indptr[a->nrows] : a->nrows * a->ncols;
  if (cap < 0) return dc_fail(DETCGD_ERR_ARG, "data: indptr[nrows] = %lld is negative", (long long)cap);
  d->rowptr = (int64_t*)dc_calloc((size_t)a->nrows + 1, sizeof(int64_t));
  d->colidx = (int32_t*)dc_calloc((size_t)(cap > 0 ? cap : 1), sizeof(int32_t));
  d->val = (double*)dc_calloc((size_t)(cap > 0 ? cap : 1), sizeof(double));
  d->label = (double*)dc_calloc((size_t)a->nrows, sizeof(double));
  if (!d->rowptr || !d->colidx || !d->val || !d->label) { dc_libsvm_free(d); return DETCGD_ERR_ALLOC; }
  d->nrows = a->nrows;
  for (r = 0; r < a->nrows && st == DETCGD_OK; ++r) {
    if (!isfinite(a->labels[r]))
      st = dc_fail(DETCGD_ERR_ARG, "data: label of row %lld is %g (not finite)", (long long)r, a->labels[r]);
    else if ((st = check_label(a->labels[r], seen, &nseen, "data row", r)) != DETCGD_OK) st = DETCGD_ERR_ARG;
    else st = copy_row(a, r, d);
    d->label[r] = a->labels[r];
  }
  if (st == DETCGD_OK) st = map_labels(d, "data", seen, nseen);
  if (st != DETCGD_OK) dc_libsvm_free(d);
  return st;
}

void dc_libsvm_free(DcLibsvm* d) {
  free(d->rowptr); free(d->colidx); free(d->val); free(d->label);
  memset(d, 0, sizeof *d);
}
