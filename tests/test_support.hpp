// Shared by both test binaries: locating the built binary and data, running commands.
#pragma once

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace rf::test {

// Paths exported by meson (tests/meson.build).
std::string ringfence_bin();
std::string data_dir();
std::string source_root();
std::string helpers_dir();

struct CommandResult {
  int status = -1; // exit status, or 128 + signal
  std::string out, err;
};

// Runs argv (argv[0] a path) with the extra environment entries, capturing output.
CommandResult run_command(const std::vector<std::string> &argv,
                          const std::vector<std::string> &extra_env = {},
                          const std::string &stdin_data = {});

std::string read_file(const std::string &path);
void write_file(const std::string &path, const std::string &text, int mode = 0644);

// A fresh directory under /tmp, removed with its contents on destruction.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const std::string &path() const { return path_; }
  std::string operator/(const std::string &name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

} // namespace rf::test

// Privileged tests may skip only when run by hand without root; CI is root, and
// .ci/run fails on any skip.
#define RF_REQUIRE_ROOT()                                                      \
  do {                                                                         \
    if (geteuid() != 0)                                                        \
      GTEST_SKIP() << "needs root (CAP_SYS_ADMIN + CAP_BPF)";                  \
  } while (0)
