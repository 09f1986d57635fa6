// The corpus under tests/data: every valid unit verifies clean, every invalid one gives the
// error named in its first line, "# expect: [FILE:]LINE: MESSAGE", at that place.
#include "test_support.hpp"
#include "unit/directives.hpp"
#include "unit/loader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace fs = std::filesystem;
using namespace rf;
using namespace rf::unit;
using rf::test::TempDir;

namespace {

// The corpus, copied with modes 0644/0755: a clone made under a loose umask may have
// group-writable files, which the trust check would (rightly) refuse.
struct Corpus {
  TempDir tmp;
  std::string root = tmp / "data";
  std::string empty_units = tmp / "no-units";

  Corpus() {
    fs::copy(rf::test::data_dir(), root, fs::copy_options::recursive);
    for (const auto &entry : fs::recursive_directory_iterator(root))
      chmod(entry.path().c_str(), entry.is_directory() ? 0755 : 0644);
    chmod(root.c_str(), 0755);
    fs::create_directories(empty_units);
  }
  std::string policies() const { return root + "/policies"; }
  SearchPaths paths() const { return SearchPaths{{empty_units}, {policies()}}; }

  std::vector<std::string> services(const std::string &dir) const {
    std::vector<std::string> out;
    for (const auto &entry : fs::directory_iterator(root + "/" + dir))
      if (entry.is_regular_file() && entry.path().extension() == ".service")
        out.push_back(entry.path().string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

struct Expectation {
  std::string file_suffix; // empty: the unit file itself
  int line = 0;            // 0: a problem of the whole file
  std::string message;
};

// "# expect: 7: unknown directive Bogus=" or "# expect: x.policy:2: includes itself".
bool parse_expectation(const std::string &path, Expectation &e) {
  std::string text = rf::test::read_file(path);
  std::string first = text.substr(0, text.find('\n'));
  const std::string tag = "# expect: ";
  if (first.rfind(tag, 0) != 0)
    return false;
  std::string rest = first.substr(tag.size());
  auto sep = rest.find(": ");
  if (sep == std::string::npos)
    return false;
  std::string where = rest.substr(0, sep);
  e.message = rest.substr(sep + 2);
  auto colon = where.rfind(':');
  if (colon != std::string::npos) {
    e.file_suffix = where.substr(0, colon);
    where = where.substr(colon + 1);
  }
  if (where.empty() || where.find_first_not_of("0123456789") != std::string::npos)
    return false;
  e.line = std::stoi(where);
  return !e.message.empty();
}

std::string dump(const Diagnostics &diags) {
  std::string s;
  for (const auto &d : diags.items())
    s += "  " + d.str() + "\n";
  return s;
}

Diagnostics verify(const Corpus &c, const std::string &path) {
  Diagnostics diags;
  LoadedUnit unit = load_unit({path, "", {}}, c.paths(), diags);
  if (!unit.name.full.empty())
    (void)build_policy(unit, {}, diags);
  return diags;
}

bool ends_with(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

} // namespace

TEST(Corpus, IsLargeEnough) {
  Corpus c;
  EXPECT_GE(c.services("valid").size(), 20u);
  EXPECT_GE(c.services("invalid").size(), 30u);
}

TEST(Corpus, ValidUnitsVerifyWithoutErrors) {
  Corpus c;
  for (const auto &path : c.services("valid")) {
    SCOPED_TRACE(path);
    Diagnostics diags = verify(c, path);
    EXPECT_FALSE(diags.has_errors()) << dump(diags);
  }
}

TEST(Corpus, EveryInvalidUnitHasAnExpectLine) {
  Corpus c;
  for (const auto &path : c.services("invalid")) {
    Expectation e;
    EXPECT_TRUE(parse_expectation(path, e)) << path << ": no '# expect: LINE: MESSAGE' first line";
  }
}

TEST(Corpus, InvalidUnitsGiveTheExpectedErrorAtTheExpectedLine) {
  Corpus c;
  for (const auto &path : c.services("invalid")) {
    SCOPED_TRACE(path);
    Expectation e;
    if (!parse_expectation(path, e))
      continue; // reported by EveryInvalidUnitHasAnExpectLine
    Diagnostics diags = verify(c, path);
    int others = 0; // errors at some other line: each file should show one problem
    bool found = false;
    for (const auto &d : diags.items()) {
      if (d.severity != Diagnostic::Severity::error)
        continue;
      bool file_ok = e.file_suffix.empty() ? d.origin.file == path
                                           : ends_with(d.origin.file, "/" + e.file_suffix);
      if (file_ok && d.origin.line == e.line && d.message.find(e.message) != std::string::npos)
        found = true;
      else if (d.origin.line > 0)
        ++others;
    }
    EXPECT_TRUE(found) << "expected " << (e.file_suffix.empty() ? path : e.file_suffix) << ":"
                       << e.line << ": error: ..." << e.message << "...\ngot:\n"
                       << dump(diags);
    EXPECT_EQ(others, 0) << "each invalid unit should have one problem; got:\n" << dump(diags);
  }
}

TEST(Corpus, ValidCorpusThroughTheBinary) {
  Corpus c;
  std::vector<std::string> argv{rf::test::ringfence_bin(), "verify"};
  for (const auto &p : c.services("valid"))
    argv.push_back(p);
  auto r = rf::test::run_command(argv, {"RINGFENCE_UNIT_PATH=" + c.empty_units,
                                        "RINGFENCE_POLICY_PATH=" + c.policies()});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err.find(": error: "), std::string::npos) << r.err;
}

TEST(Corpus, InvalidCorpusThroughTheBinaryReportsEveryFile) {
  Corpus c;
  std::vector<std::string> argv{rf::test::ringfence_bin(), "verify"};
  auto files = c.services("invalid");
  for (const auto &p : files)
    argv.push_back(p);
  auto r = rf::test::run_command(argv, {"RINGFENCE_UNIT_PATH=" + c.empty_units,
                                        "RINGFENCE_POLICY_PATH=" + c.policies()});
  EXPECT_EQ(r.status, 1);
  for (const auto &path : files) {
    Expectation e;
    if (!parse_expectation(path, e))
      continue;
    std::string where = e.file_suffix.empty() ? path : e.file_suffix;
    if (e.line > 0)
      where += ":" + std::to_string(e.line);
    where += ": error: ";
    bool found = false;
    for (size_t pos = r.err.find(where); pos != std::string::npos; pos = r.err.find(where, pos + 1)) {
      std::string line = r.err.substr(pos, r.err.find('\n', pos) - pos);
      if (line.find(e.message) != std::string::npos)
        found = true;
    }
    EXPECT_TRUE(found) << "no line '" << where << "..." << e.message << "' in:\n" << r.err;
  }
}
