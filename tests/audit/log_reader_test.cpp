// Reading and following the log file: lines split across reads, truncation, rotation.
#include "audit/log_reader.hpp"

#include "test_support.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using rf::audit::LogReader;
using rf::test::TempDir;
using rf::test::write_file;

namespace {

void append(const std::string &path, const std::string &text) {
  std::ofstream(path, std::ios::binary | std::ios::app) << text;
}

struct Collector {
  std::vector<std::string> lines;
  LogReader::LineHandler handler() {
    return [this](std::string_view line) { lines.emplace_back(line); };
  }
  std::vector<std::string> take() { return std::exchange(lines, {}); }
};

using Lines = std::vector<std::string>;

} // namespace

TEST(LogReader, AbsentFileIsNoError) {
  TempDir tmp;
  LogReader log(tmp / "audit.jsonl");
  auto opened = log.open();
  ASSERT_TRUE(opened.ok());
  EXPECT_FALSE(*opened);
  Collector got;
  EXPECT_TRUE(log.read_lines(got.handler(), true).ok());
  EXPECT_TRUE(got.lines.empty());
}

TEST(LogReader, UnreadablePathIsAnErrorNamingIt) {
  TempDir tmp;
  LogReader log(tmp.path());
  auto opened = log.open();
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().message(), "cannot read " + tmp.path() + ": Is a directory");
}

TEST(LogReader, ReadsLinesAndTheLastUnterminatedOneAtTheEnd) {
  TempDir tmp;
  write_file(tmp / "log", "one\n\ntwo\nthree");
  LogReader log(tmp / "log");
  ASSERT_TRUE(log.open().ok());
  Collector got;
  ASSERT_TRUE(log.read_lines(got.handler(), true).ok());
  EXPECT_EQ(got.lines, (Lines{"one", "", "two", "three"}));
}

TEST(LogReader, LongLinesSpanReads) {
  TempDir tmp;
  std::string long_line(200000, 'x');
  write_file(tmp / "log", long_line + "\nshort\n");
  LogReader log(tmp / "log");
  ASSERT_TRUE(log.open().ok());
  Collector got;
  ASSERT_TRUE(log.read_lines(got.handler(), true).ok());
  EXPECT_EQ(got.lines, (Lines{long_line, "short"}));
}

TEST(LogReader, FollowWaitsForTheNewline) {
  TempDir tmp;
  std::string path = tmp / "log";
  write_file(path, "old\n");
  LogReader log(path);
  ASSERT_TRUE(log.open().ok());
  Collector got;
  ASSERT_TRUE(log.read_lines(got.handler(), false).ok());
  EXPECT_EQ(got.take(), Lines{"old"});
  append(path, "hal");
  ASSERT_TRUE(log.follow(got.handler()).ok());
  EXPECT_TRUE(got.lines.empty());
  append(path, "f\nnext\n");
  ASSERT_TRUE(log.follow(got.handler()).ok());
  EXPECT_EQ(got.take(), (Lines{"half", "next"}));
}

TEST(LogReader, FollowStartsOverAfterTruncation) {
  TempDir tmp;
  std::string path = tmp / "log";
  write_file(path, "first line\nsecond line\n");
  LogReader log(path);
  ASSERT_TRUE(log.open().ok());
  Collector got;
  ASSERT_TRUE(log.read_lines(got.handler(), false).ok());
  got.take();
  write_file(path, "new\n"); // truncated, then written: shorter than what was read
  ASSERT_TRUE(log.follow(got.handler()).ok());
  EXPECT_EQ(got.take(), Lines{"new"});
}

TEST(LogReader, FollowMovesToTheNewFileAfterRotation) {
  TempDir tmp;
  std::string path = tmp / "log";
  write_file(path, "a\n");
  LogReader log(path);
  ASSERT_TRUE(log.open().ok());
  Collector got;
  ASSERT_TRUE(log.read_lines(got.handler(), false).ok());
  got.take();
  ASSERT_EQ(std::rename(path.c_str(), (tmp / "log.1").c_str()), 0);
  ASSERT_TRUE(log.follow(got.handler()).ok()); // nothing at the path for now
  append(tmp / "log.1", "late to the old file\n");
  write_file(path, "b\n");
  ASSERT_TRUE(log.follow(got.handler()).ok());
  EXPECT_EQ(got.take(), (Lines{"late to the old file", "b"}));
  append(path, "c\n");
  ASSERT_TRUE(log.follow(got.handler()).ok());
  EXPECT_EQ(got.take(), Lines{"c"});
}

TEST(LogReader, FollowOpensALogThatAppears) {
  TempDir tmp;
  std::string path = tmp / "log";
  LogReader log(path);
  ASSERT_FALSE(*log.open());
  Collector got;
  ASSERT_TRUE(log.follow(got.handler()).ok());
  write_file(path, "x\n");
  ASSERT_TRUE(log.follow(got.handler()).ok());
  EXPECT_EQ(got.take(), Lines{"x"});
}
