// The LIBSVM reader: every quirk of DESIGN.md, malformed lines with file:line,
// and the real datasets in ../shared when they are present.
#include <sys/stat.h>
#include <zlib.h>
#include <fstream>
#include <thread>
#include "test_util.h"
extern "C" {
#include "libsvm.h"
}

static int parse(const std::string& text, DcLibsvm* d, const char* name = "mem.svm") {
  return dc_libsvm_parse(text.data(), text.size(), name, d);
}

TEST(Libsvm, QuirksFixtureFile) {
  DcLibsvm d;
  ASSERT_EQ(dc_libsvm_read(DETCGD_TEST_DATA "/quirks.svm", &d), DETCGD_OK) << detcgd_last_error();
  EXPECT_EQ(d.nrows, 5);  // the blank line is not a row; the featureless row is
  EXPECT_EQ(d.nnz, 7);
  EXPECT_EQ(d.max_index, 4);
  EXPECT_EQ(d.label[0], 1.0);
  EXPECT_EQ(d.label[1], -1.0);
  EXPECT_EQ(d.rowptr[2], d.rowptr[3]);  // "+1" with no features
  EXPECT_EQ(d.colidx[0], 0);
  EXPECT_EQ(d.val[1], 1.25);
  EXPECT_EQ(d.val[6], 0.25);  // last line without a final newline
  dc_libsvm_free(&d);
}

TEST(Libsvm, LabelsMapLargerToPlusOne) {
  for (auto [a, b] : std::vector<std::pair<std::string, std::string>>{{"0", "1"}, {"1", "2"}, {"-1", "+1"}}) {
    DcLibsvm d;
    ASSERT_EQ(parse(a + " 1:1\n" + b + " 2:1\n" + a + "\n", &d), DETCGD_OK) << detcgd_last_error();
    EXPECT_EQ(d.label[0], -1.0);
    EXPECT_EQ(d.label[1], 1.0);
    EXPECT_EQ(d.label[2], -1.0);
    dc_libsvm_free(&d);
  }
}

TEST(Libsvm, TrailingBlanksBlankLastLineAndCrlf) {
  DcLibsvm d;
  ASSERT_EQ(parse("1 1:2 3:4   \r\n-1 2:1\t\r\n\r\n\n", &d), DETCGD_OK) << detcgd_last_error();
  EXPECT_EQ(d.nrows, 2);
  EXPECT_EQ(d.nnz, 3);
  EXPECT_EQ(d.max_index, 3);
  dc_libsvm_free(&d);
}

struct Bad { const char* text; int line; const char* words; };

TEST(Libsvm, MalformedLinesNameFileAndLine) {
  const Bad cases[] = {
      {"1 1:1\nx 2:1\n", 2, "label"},
      {"1 1:1\n-1 2:abc\n", 2, "bad value"},
      {"1 1:1\n\n-1 0:1\n", 3, "out of range"},
      {"1 3:1 2:1\n", 1, "must increase"},
      {"1 3:1 3:2\n", 1, "must increase"},
      {"1 1:1\n-1 4\n", 2, "index:value"},
      {"1 1:nan\n", 1, "bad value"},
      {"1 1:1e999\n", 1, "bad value"},
      {"1 1:1:2\n", 1, "bad value"},
      {"1 99999999999:1\n", 1, "out of range"},
      {"# three labels\n1 1:1\n\n2 1:1\n3 1:1\n", 5, "third label 3"},
  };
  for (const Bad& c : cases) {
    DcLibsvm d;
    EXPECT_EQ(parse(c.text, &d, "bad.svm"), DETCGD_ERR_PARSE) << c.text;
    std::string msg = detcgd_last_error();
    EXPECT_NE(msg.find("bad.svm:" + std::to_string(c.line) + ":"), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.words), std::string::npos) << msg;
  }
}

TEST(Libsvm, EmptyFileAndMissingFile) {
  DcLibsvm d;
  EXPECT_EQ(parse("\n\n", &d), DETCGD_ERR_PARSE);
  EXPECT_NE(std::string(detcgd_last_error()).find("no data rows"), std::string::npos);
  EXPECT_EQ(dc_libsvm_read("/nonexistent/x.svm", &d), DETCGD_ERR_IO);
  EXPECT_NE(std::string(detcgd_last_error()).find("/nonexistent/x.svm"), std::string::npos);
}

static bool shared_data(const char* name) {
  struct stat st;
  return stat((std::string(DETCGD_SHARED_DATA) + "/" + name).c_str(), &st) == 0;
}

// The file is read as a stream: gzip through zlib, a FIFO as its writer writes it; a directory or a device
// is turned away with a message naming it.
TEST(Libsvm, GzipFifoAndDirectory) {
  const std::string text = read_file(DETCGD_TEST_DATA "/quirks.svm"), gz = temp_path("quirks.svm.gz");
  gzFile f = gzopen(gz.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, text.data(), (unsigned)text.size()), (int)text.size());
  gzclose(f);
  DcLibsvm plain, packed;
  ASSERT_EQ(dc_libsvm_read(DETCGD_TEST_DATA "/quirks.svm", &plain), DETCGD_OK);
  ASSERT_EQ(dc_libsvm_read(gz.c_str(), &packed), DETCGD_OK) << detcgd_last_error();
  EXPECT_EQ(packed.nrows, plain.nrows);
  EXPECT_EQ(std::vector<double>(packed.val, packed.val + packed.nnz), std::vector<double>(plain.val, plain.val + plain.nnz));
  dc_libsvm_free(&packed);
  const std::string fifo = temp_path("rows.fifo");
  std::remove(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&] {
    std::ofstream w(fifo, std::ios::binary);
    for (size_t at = 0; at < text.size(); at += 7) w << text.substr(at, 7) << std::flush;  // in pieces
  });
  DcLibsvm piped;
  int st = dc_libsvm_read(fifo.c_str(), &piped);
  writer.join();
  ASSERT_EQ(st, DETCGD_OK) << detcgd_last_error();
  EXPECT_EQ(piped.nrows, plain.nrows);
  EXPECT_EQ(piped.nnz, plain.nnz);
  dc_libsvm_free(&piped);
  dc_libsvm_free(&plain);
  DcLibsvm d;
  EXPECT_EQ(dc_libsvm_read(DETCGD_TEST_DATA, &d), DETCGD_ERR_IO);
  EXPECT_NE(std::string(detcgd_last_error()).find("is a directory, not a LIBSVM file"), std::string::npos)
      << detcgd_last_error();
  const std::string bad = temp_path("bad.svm.gz");
  write_file(bad, std::string("\x1f\x8b\x08\x00garbage", 12));
  EXPECT_NE(dc_libsvm_read(bad.c_str(), &d), DETCGD_OK);
  EXPECT_NE(std::string(detcgd_last_error()).find("bad.svm.gz"), std::string::npos) << detcgd_last_error();
}

TEST(Libsvm, RealDatasetsMatchSourcesTable) {
  struct Want { const char* name; int64_t rows; int d; int64_t nnz; };
  const Want want[] = {{"a1a", 1605, 119, 22249}, {"a9a", 32561, 123, 451592}, {"w8a", 49749, 300, 579586}};
  int seen = 0;
  for (const Want& w : want) {
    if (!shared_data(w.name)) continue;
    ++seen;
    DcLibsvm d;
    ASSERT_EQ(dc_libsvm_read((std::string(DETCGD_SHARED_DATA) + "/" + w.name).c_str(), &d), DETCGD_OK)
        << detcgd_last_error();
    EXPECT_EQ(d.nrows, w.rows) << w.name;
    EXPECT_EQ(d.max_index, w.d) << w.name;
    EXPECT_EQ(d.nnz, w.nnz) << w.name;
    dc_libsvm_free(&d);
  }
  if (!seen) GTEST_SKIP() << "../shared/data/libsvm not present";
}
