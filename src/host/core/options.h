/*
 * options.h -- every option as one table row: key, type, default, range, help, the commands that read
 * it and when a configuration reads it.  The rows drive the setters (detcgd_set and the two older ones),
 * the defaults, the range checks, the help text, the summary's config echo, config files, the unread-option
 * check of the CLI and the configuration a checkpoint records.
 *
 * The problem's and the run's rows are in options.c; a compressor or a method declares its own rows in its
 * type table (`options`), read only when that compressor or method runs.
 */
#ifndef DETCGD_OPTIONS_H
#define DETCGD_OPTIONS_H

#include <stddef.h>
#include <stdio.h>
#include "detcgd.h"

typedef enum DcOptionType {
  DC_OPT_INT = 0,    /* int */
  DC_OPT_I64,        /* int64_t */
  DC_OPT_U64,        /* uint64_t (seeds) */
  DC_OPT_DOUBLE,     /* double */
  DC_OPT_BOOL,       /* int 0/1: 1/0, true/false, yes/no, on/off */
  DC_OPT_ENUM,       /* int index into `names` */
  DC_OPT_STRING,     /* char[size] */
  DC_OPT_METHOD,     /* int DetcgdMethod, by the method registry's names */
  DC_OPT_COMPRESSOR  /* int DetcgdSketchKind, by the compressor registry's names */
} DcOptionType;

/* The struct a row's field lives in. */
enum { DC_IN_PROBLEM = 0, DC_IN_SETTINGS = 1 };

/* Flags of a row. */
enum {
  DC_OPT_NO_STATE = 1u << 0, /* does not change the iterates (outputs, stopping, placement): a resumed run may
                              * differ in it, and a checkpoint does not record it */
  DC_OPT_LO_OPEN = 1u << 1,  /* numbers: v > lo (else v >= lo) */
  DC_OPT_NAN_OK = 1u << 2,   /* doubles: NaN allowed (meaning "estimate") */
  DC_OPT_NOT_REPLAYED = 1u << 3 /* a replay of the summary leaves it out: this run's output files, its resume
                                 * point, the fault injected */
};

/* NULL when the configuration reads the option, else a phrase saying when it is read ("read with sketch
 * rand-k").  p may be NULL (settings alone): conditions on the problem then count as read. */
typedef const char* (*DcOptionUnread)(const DetcgdProblemSpec* p, const DetcgdSettings* s);

typedef struct DcOption {
  const char* key;          /* --key, config-file key, summary config key */
  const char* group;        /* help section */
  int type;                 /* DcOptionType */
  int in;                   /* DC_IN_* */
  size_t offset, size;      /* the field (strings: its capacity) */
  const char* dflt;         /* the default, as it is typed */
  double lo, hi;            /* numbers: the inclusive range (see DC_OPT_LO_OPEN) */
  const char* const* names; /* DC_OPT_ENUM: the values, NULL-terminated, index = stored value */
  unsigned commands;        /* DETCGD_CMD_* that read it */
  unsigned flags;           /* DC_OPT_* */
  DcOptionUnread unread;    /* NULL: read whenever a command that reads it runs */
  const char* help;
} DcOption;

#define DC_PROBLEM_FIELD(f) DC_IN_PROBLEM, offsetof(DetcgdProblemSpec, f), sizeof(((DetcgdProblemSpec*)0)->f)
#define DC_SETTINGS_FIELD(f) DC_IN_SETTINGS, offsetof(DetcgdSettings, f), sizeof(((DetcgdSettings*)0)->f)
#define DC_OPTION_END {NULL, NULL, 0, 0, 0, 0, NULL, 0, 0, NULL, 0, 0, NULL, NULL}

/* Every row in table order (the problem's, the method's, the compressors', the run's): *i starts at 0; NULL
 * after the last.  *owner_unread is the reason the row's owner (its compressor or method) is not the one
 * the configuration runs, or NULL (owner_unread may be NULL). */
typedef struct DcOptionIter { int part, i; } DcOptionIter;
const DcOption* dc_option_next(DcOptionIter* it, const DetcgdProblemSpec* p, const DetcgdSettings* s,
                               const char** owner_unread);
const DcOption* dc_option_find(const char* key);

/* Parses value into the row's field (range checked; an error names the key). */
int dc_option_set(const DcOption* o, DetcgdProblemSpec* p, DetcgdSettings* s, const char* value);
/* The field's value as it is typed (parsing it back gives the same bits): into out[0..n). */
void dc_option_format(const DcOption* o, const DetcgdProblemSpec* p, const DetcgdSettings* s, char* out, size_t n);
/* NULL when the configuration reads option o under `command` (DETCGD_CMD_*), else why not (a phrase valid
 * until the next call). */
const char* dc_option_unread(const DcOption* o, const DetcgdProblemSpec* p, const DetcgdSettings* s, unsigned command);
/* Every default of struct `in` (DC_IN_*). */
void dc_options_default(int in, DetcgdProblemSpec* p, DetcgdSettings* s);
/* The range of every row of struct `in` that the configuration reads; an error names the first key out of it. */
int dc_options_check(int in, const DetcgdProblemSpec* p, const DetcgdSettings* s);
/* Appends "key = value\n" at out + len (within out[0..n)); returns the length of the whole text so far. */
size_t dc_option_append_line(const DcOption* o, const char* value, char* out, size_t n, size_t len);
/* The options the iterates depend on, as config-file lines "key = value\n" (the rows a run of this
 * configuration reads, without DC_OPT_NO_STATE) into out[0..n); returns the whole length. */
size_t dc_options_state_text(const DetcgdProblemSpec* p, const DetcgdSettings* s, char* out, size_t n);
/* Help text of every row, by group, into f. */
void dc_options_help(FILE* f);

#endif /* DETCGD_OPTIONS_H */
