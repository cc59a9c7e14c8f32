/*
 * config_file.h -- config files (--config): INI lines of any length.
 *
 *   [section]          free-form, for the reader's eyes ([problem], [method], ...)
 *   key = value        or key: value; spaces around either trimmed
 *   ; comment          or # comment on a line of its own; after a value " ; comment"
 */
#ifndef DETCGD_CONFIG_FILE_H
#define DETCGD_CONFIG_FILE_H

/* Called for each key = value line; returns nonzero to go on. */
typedef int (*CliConfigEntry)(void* user, const char* section, const char* key, const char* value);

/* 0 when every line was read, -1 when the file cannot be read, else the number of the first bad line (one
 * that is neither a section, a key = value, a comment nor blank, or whose entry returned 0). */
int cli_config_parse_file(const char* path, CliConfigEntry each, void* user);
int cli_config_parse_string(const char* text, CliConfigEntry each, void* user);

#endif /* DETCGD_CONFIG_FILE_H */
