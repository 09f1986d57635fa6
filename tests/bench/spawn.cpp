// Launch time and peak memory of several commands, interleaved (one run of each in turn, so
// that a noisy machine's drift hits all of them alike), for tests/bench/run.
//
//   bench-spawn RUNS WARMUP -- COMMAND1 ARGS... [--- COMMAND2 ARGS...]...
//
// Prints one line per command, in order: "median_ms p90_ms max_rss_kb", where max_rss_kb is
// the largest ru_maxrss wait4() reported for it: the peak resident memory of the command's
// own process (for `ringfence run`, the supervisor). Fails if any run exits non-zero.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <spawn.h>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <vector>

extern char **environ;

namespace {

struct Sample {
  double ms;
  long rss_kb;
};

Sample run_once(const std::vector<char *> &argv) {
  auto start = std::chrono::steady_clock::now();
  pid_t pid;
  if (int err = posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ); err != 0) {
    std::fprintf(stderr, "bench-spawn: %s: %s\n", argv[0], std::strerror(err));
    std::exit(1);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "bench-spawn: %s failed (status %d)\n", argv[0], status);
    std::exit(1);
  }
  return {elapsed.count(), usage.ru_maxrss};
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 5 || std::strcmp(argv[3], "--") != 0) {
    std::fprintf(stderr, "usage: bench-spawn RUNS WARMUP -- COMMAND ARGS... [--- COMMAND ...]\n");
    return 2;
  }
  int runs = std::atoi(argv[1]), warmup = std::atoi(argv[2]);
  std::vector<std::vector<char *>> commands(1);
  for (int i = 4; i < argc; ++i) {
    if (std::strcmp(argv[i], "---") == 0) {
      commands.emplace_back();
      continue;
    }
    commands.back().push_back(argv[i]);
  }
  for (auto &c : commands) {
    if (c.empty()) {
      std::fprintf(stderr, "bench-spawn: empty command\n");
      return 2;
    }
    c.push_back(nullptr);
  }

  std::vector<std::vector<double>> ms(commands.size());
  std::vector<long> rss(commands.size(), 0);
  for (int r = -warmup; r < runs; ++r)
    for (std::size_t c = 0; c < commands.size(); ++c) {
      Sample s = run_once(commands[c]);
      if (r < 0)
        continue; // warm-up: page cache, the cgroup parent, the seccomp filter cache
      ms[c].push_back(s.ms);
      rss[c] = std::max(rss[c], s.rss_kb);
    }
  for (std::size_t c = 0; c < commands.size(); ++c)
    std::printf("%.3f %.3f %ld\n", percentile(ms[c], 0.5), percentile(ms[c], 0.9), rss[c]);
  return 0;
}
