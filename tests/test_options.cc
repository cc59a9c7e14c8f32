// The option table: one row per key drives the setters, the defaults, the range checks, the help, the
// config echo and the unread-option check.  Each test walks every row, so a new row is covered at once.
#include <cmath>
#include <cstring>
#include <set>
#include <string>
#include "test_util.h"
extern "C" {
#include "options.h"
}

namespace {

std::vector<const DcOption*> all_rows() {
  std::vector<const DcOption*> rows;
  DcOptionIter it = {0, 0};
  const DcOption* o;
  while ((o = dc_option_next(&it, nullptr, nullptr, nullptr))) rows.push_back(o);
  return rows;
}

std::string formatted(const DcOption* o, const DetcgdProblemSpec& p, const DetcgdSettings& s) {
  char v[DETCGD_LIST_MAX + 64];
  dc_option_format(o, &p, &s, v, sizeof v);
  return v;
}

struct Config {
  DetcgdProblemSpec p;
  DetcgdSettings s;
  Config() {
    detcgd_problem_spec_default(&p);
    detcgd_settings_default(&s);
  }
  void set(const char* key, const char* value) { ASSERT_EQ(detcgd_set(&p, &s, key, value), DETCGD_OK) << detcgd_last_error(); }
  const char* unread(const char* key, int cmd = DETCGD_CMD_RUN) { return detcgd_option_unread(&p, &s, key, cmd); }
};

}  // namespace

TEST(Options, EveryRowIsCompleteAndItsKeyUnique) {
  std::set<std::string> keys;
  auto rows = all_rows();
  EXPECT_GE(rows.size(), 50u);
  for (const DcOption* o : rows) {
    EXPECT_TRUE(keys.insert(o->key).second) << "two rows for " << o->key;
    EXPECT_TRUE(o->group && o->group[0]) << o->key;
    EXPECT_TRUE(o->help && o->help[0]) << o->key;
    EXPECT_NE(o->commands, 0u) << o->key;
    EXPECT_EQ(dc_option_find(o->key), o);
    if (o->type == DC_OPT_STRING) EXPECT_GE(o->size, 64u) << o->key;
  }
  for (const char* k : {"lambda", "k", "q-list", "importance", "p", "method", "sketch", "iters", "resume"})
    EXPECT_TRUE(keys.count(k)) << k;
}

TEST(Options, DefaultsAreTheRowsDefaults) {
  Config c;
  for (const DcOption* o : all_rows()) {
    Config parsed;
    ASSERT_EQ(dc_option_set(o, &parsed.p, &parsed.s, o->dflt), DETCGD_OK) << o->key << ": " << detcgd_last_error();
    EXPECT_EQ(formatted(o, c.p, c.s), formatted(o, parsed.p, parsed.s)) << o->key;
  }
  EXPECT_EQ(detcgd_settings_validate(&c.s), DETCGD_OK) << detcgd_last_error();
}

// Every value a row formats parses back to the same bits: the summary's config and the checkpoint's
// configuration repeat a run exactly.
TEST(Options, FormattedValuesParseBackToTheSameBits) {
  Config c;
  c.set("lambda", "0.30000000000000004");
  c.set("spec-min", "1e-300");
  c.set("x0", "-2.5e-7");
  c.set("seed", "18446744073709551615");
  c.set("samples", "1099511627776");
  c.set("layers", "3x8,7");
  c.set("sketch", "bern-q");
  c.set("q", "0.1");
  c.set("method", "det-cgd1");
  c.set("label", "a \"quoted\" label, caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");  // UTF-8 of 2, 3 and 4 bytes
  c.set("f-inf", "-0.125");
  for (const DcOption* o : all_rows()) {
    Config back;
    std::string v = formatted(o, c.p, c.s);
    ASSERT_EQ(dc_option_set(o, &back.p, &back.s, v.c_str()), DETCGD_OK) << o->key << " = " << v;
    EXPECT_EQ(formatted(o, back.p, back.s), v) << o->key;
  }
  Config back;
  char text[16384];
  size_t n = detcgd_config_format(&c.p, &c.s, 1, text, sizeof text);
  ASSERT_LT(n, sizeof text);
  std::string all(text);
  EXPECT_NE(all.find("lambda = 0.30000000000000004\n"), std::string::npos) << all;
  EXPECT_EQ(all.find("iters = "), std::string::npos) << "an unchanged key listed: " << all;
  size_t at = 0;
  while (at < all.size()) {  // the changed keys alone rebuild the configuration
    size_t eol = all.find('\n', at), eq = all.find(" = ", at);
    back.set(all.substr(at, eq - at).c_str(), all.substr(eq + 3, eol - eq - 3).c_str());
    at = eol + 1;
  }
  EXPECT_EQ(memcmp(&back.p, &c.p, sizeof c.p), 0);
  EXPECT_EQ(back.s.stepsize.scale, c.s.stepsize.scale);
  EXPECT_EQ(std::string(back.s.output.label), c.s.output.label);
  EXPECT_EQ(back.s.seed, c.s.seed);
  EXPECT_EQ(back.s.sketch.q, c.s.sketch.q);
}

TEST(Options, ValuesOutOfTheirRangeAreRefusedNamingTheKey) {
  static const std::string long_label(200, 'x');
  struct Bad { const char* key; const char* value; const char* says; };
  const Bad bad[] = {{"density", "0", "density: 0 is out of range (0, 1]"},
                     {"trace-every", "0", "trace-every: 0 is out of range [1, inf)"},
                     {"value-bits", "16", "value-bits: 16 is out of range [32, 64]"},
                     {"p", "1.5", "p: 1.5 is out of range (0, 1]"},
                     {"k-ratio", "-0.1", "k-ratio: -0.1 is out of range [0, 1]"},
                     {"lambda", "inf", "lambda: inf is out of range [0, inf)"},
                     {"x0", "nan", "x0: nan is out of range"},
                     {"clients", "-1", "clients: -1 is out of range [0, 1000000000]"},
                     {"iters", "2147483648", "iters: 2147483648 is out of range"},
                     {"split", "random", "split: unknown value \"random\" (one of: contiguous, shuffled, label-skew)"},
                     {"sketch", "top-3", "sketch: unknown value \"top-3\" (one of: identity, rand-k"},
                     {"label", long_label.c_str(), "label: value longer than 127 characters"},
                     {"label", "two\nlines", "label: a control character (code 10) in the value"},
                     {"label", "caf\xe9", "label: byte 4 of the value is not UTF-8"},
                     {"data", "a\xc3", "data: byte 2 of the value is not UTF-8"}};
  for (const Bad& b : bad) {
    Config c;
    EXPECT_EQ(detcgd_set(&c.p, &c.s, b.key, b.value), DETCGD_ERR_ARG) << b.key;
    EXPECT_NE(std::string(detcgd_last_error()).find(b.says), std::string::npos) << detcgd_last_error();
  }
  Config c;  // set in the struct directly, the validator finds it (rows the configuration reads only)
  c.s.output.trace_every = 0;
  EXPECT_EQ(detcgd_settings_validate(&c.s), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("trace-every: 0 is out of range"), std::string::npos);
  c.s.output.trace_every = 10;
  c.s.sketch.p = 7;  // p of bernoulli, with rand-1: not read, not checked
  EXPECT_EQ(detcgd_settings_validate(&c.s), DETCGD_OK) << detcgd_last_error();
  c.s.sketch.kind = DETCGD_SKETCH_BERNOULLI;
  EXPECT_EQ(detcgd_settings_validate(&c.s), DETCGD_ERR_ARG);
  EXPECT_NE(std::string(detcgd_last_error()).find("p: 7 is out of range (0, 1]"), std::string::npos);
}

// Which options a configuration reads: the compressors' and the methods' rows are theirs, the others say
// when they are read.
TEST(Options, OptionsTheConfigurationWouldIgnoreAreNamed) {
  struct Case { std::vector<std::pair<const char*, const char*>> set; const char* key; const char* why; int cmd; };
  const Case cases[] = {
      {{}, "lambda", nullptr, DETCGD_CMD_RUN},
      {{{"sketch", "rand-k"}}, "k", nullptr, DETCGD_CMD_RUN},
      {{{"sketch", "rand-1"}}, "k", "read with sketch rand-k, top-k or rand-k-c", DETCGD_CMD_RUN},
      {{{"sketch", "bernoulli"}}, "q-list", "read with sketch bern-q", DETCGD_CMD_RUN},
      {{{"sketch", "importance-1"}}, "importance", nullptr, DETCGD_CMD_RUN},
      {{{"method", "gd"}, {"sketch", "rand-k"}}, "k", "read with sketch rand-k, top-k or rand-k-c", DETCGD_CMD_RUN},
      {{{"method", "gd"}}, "sketch", "not read by method gd, which compresses nothing", DETCGD_CMD_RUN},
      {{}, "weight", "read by stepsize thm2 and cor1", DETCGD_CMD_RUN},
      {{{"stepsize", "thm2"}}, "weight", nullptr, DETCGD_CMD_RUN},
      {{}, "stepsize-file", "read by stepsize user", DETCGD_CMD_RUN},
      {{}, "split", "read by distributed runs (clients > 0)", DETCGD_CMD_RUN},
      {{{"clients", "4"}}, "split", nullptr, DETCGD_CMD_RUN},
      {{{"problem", "quad-nc"}}, "data", "read by problem logreg-nc", DETCGD_CMD_RUN},
      {{{"samples", "10"}}, "data", "synthetic rows (samples > 0) read no file", DETCGD_CMD_RUN},
      {{}, "spec-min", "read by problems quad-nc and poly-nc", DETCGD_CMD_RUN},
      {{}, "poly-radius", "read by problem poly-nc", DETCGD_CMD_RUN},
      {{{"problem", "poly-nc"}}, "spec-min", nullptr, DETCGD_CMD_RUN},
      {{}, "data-seed", "read by quad-nc, poly-nc, synthetic rows and split shuffled", DETCGD_CMD_RUN},
      {{{"clients", "3"}, {"split", "shuffled"}}, "data-seed", nullptr, DETCGD_CMD_RUN},
      {{}, "checkpoint-every", "read with checkpoint", DETCGD_CMD_RUN},
      {{}, "trace", "read by run", DETCGD_CMD_THEORY},
      {{}, "target-g", "read by run and experiment", DETCGD_CMD_THEORY},
      {{}, "label", "read by run", DETCGD_CMD_EXPERIMENT},
      {{}, "no-such-key", "not an option", DETCGD_CMD_RUN},
  };
  for (const Case& k : cases) {
    Config c;
    for (auto& kv : k.set) c.set(kv.first, kv.second);
    const char* why = c.unread(k.key, k.cmd);
    if (!k.why) EXPECT_EQ(why, nullptr) << k.key << ": " << why;
    else EXPECT_STREQ(why, k.why) << k.key;
  }
  // commands that run several configurations ask the command alone
  EXPECT_EQ(detcgd_option_unread(nullptr, nullptr, "k", DETCGD_CMD_THEORY), nullptr);
}

TEST(Options, HelpListsEveryRowWithItsDefault) {
  char* text = nullptr;
  size_t len = 0;
  FILE* f = open_memstream(&text, &len);
  ASSERT_NE(f, nullptr);
  dc_options_help(f);
  fclose(f);
  std::string help(text, len);
  free(text);
  for (const DcOption* o : all_rows()) {
    EXPECT_NE(help.find(std::string("--") + o->key + " "), std::string::npos) << o->key;
    EXPECT_NE(help.find(o->help), std::string::npos) << o->key;
  }
  EXPECT_NE(help.find("--sketch identity|rand-k|rand-1|importance-1|bernoulli|bern-q"), std::string::npos);
  EXPECT_NE(help.find("[det-cgd2]"), std::string::npos);
}
