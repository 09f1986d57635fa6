// Launch overhead: `/bin/true` bare vs `ringfence run -- /bin/true` (empty policy), in one
// run, interleaved so that machine noise hits both alike. Prints medians, the overhead in
// ms and the ratio. Usage: bench-launch RINGFENCE [ITERATIONS] [-- EXTRA RUN OPTIONS...]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace {

double run_once(const std::vector<std::string> &argv) {
  std::vector<char *> args;
  for (const auto &a : argv)
    args.push_back(const_cast<char *>(a.c_str()));
  args.push_back(nullptr);
  auto start = std::chrono::steady_clock::now();
  pid_t pid;
  if (posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) {
    std::perror("posix_spawn");
    std::exit(1);
  }
  int status;
  waitpid(pid, &status, 0);
  auto elapsed = std::chrono::steady_clock::now() - start;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "bench-launch: %s failed (status %d)\n", args[0], status);
    std::exit(1);
  }
  return std::chrono::duration<double, std::milli>(elapsed).count();
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s RINGFENCE [ITERATIONS] [-- RUN OPTIONS...]\n", argv[0]);
    return 2;
  }
  int iterations = argc > 2 && std::string(argv[2]) != "--" ? std::atoi(argv[2]) : 300;
  std::vector<std::string> bare{"/bin/true"};
  std::vector<std::string> wrapped{argv[1], "run"};
  for (int i = 3; i < argc; ++i)
    if (std::string(argv[i]) != "--")
      wrapped.emplace_back(argv[i]);
  wrapped.insert(wrapped.end(), {"--", "/bin/true"});

  for (int i = 0; i < 10; ++i) { // warm caches: page cache, dentries, the cgroup parent
    run_once(bare);
    run_once(wrapped);
  }
  std::vector<double> bare_ms, wrapped_ms;
  for (int i = 0; i < iterations; ++i) {
    bare_ms.push_back(run_once(bare));
    wrapped_ms.push_back(run_once(wrapped));
  }
  double bare_median = percentile(bare_ms, 0.5), wrapped_median = percentile(wrapped_ms, 0.5);
  std::printf("launch /bin/true, %d runs each, interleaved\n", iterations);
  std::printf("  bare exec            median %.3f ms  p90 %.3f ms\n", bare_median,
              percentile(bare_ms, 0.9));
  std::printf("  ringfence run        median %.3f ms  p90 %.3f ms\n", wrapped_median,
              percentile(wrapped_ms, 0.9));
  std::printf("  overhead             %.3f ms  ratio %.2fx  (target: < 1.0 ms)\n",
              wrapped_median - bare_median, wrapped_median / bare_median);
  return 0;
}
