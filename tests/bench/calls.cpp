// Small system-call loops for tests/bench/run, each printing one line of numbers:
//
//   bench-calls getppid CALLS REPS   median ns per raw getppid() over REPS loops of CALLS
//   bench-calls connect CALLS REPS   the same for connect() of a UDP socket to 127.0.0.1:9
//                                    (connecting a UDP socket sends nothing; it runs the
//                                    kernel's connect path and every probe on it)
//   bench-calls flood ADDR CALLS     CALLS TCP connect()s to ADDR (a loopback address) on a
//                                    port nobody listens on; prints "EPERM-count other-count
//                                    seconds". Inside a run with IPAddressDeny=ADDR every one
//                                    is refused (EPERM) before a packet exists; outside, the
//                                    kernel answers ECONNREFUSED (the baseline).
//
// Loopback only: ADDR must be in 127.0.0.0/8, anything else is refused by this program.
#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace {

[[noreturn]] void die(const std::string &what) {
  std::fprintf(stderr, "bench-calls: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

long number(const char *s) {
  char *end = nullptr;
  long n = std::strtol(s, &end, 10);
  if (*end != '\0' || n <= 0) {
    std::fprintf(stderr, "bench-calls: not a positive number: %s\n", s);
    std::exit(2);
  }
  return n;
}

sockaddr_in loopback(const char *addr, int port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1 || (ntohl(sa.sin_addr.s_addr) >> 24) != 127) {
    std::fprintf(stderr, "bench-calls: %s is not an IPv4 loopback address\n", addr);
    std::exit(2);
  }
  return sa;
}

// Median over `reps` loops of the mean ns per call of `body`.
template <typename F> double median_ns(long calls, long reps, F body) {
  std::vector<double> runs;
  for (long r = 0; r < reps; ++r) {
    auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < calls; ++i)
      body();
    std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
    runs.push_back(elapsed.count() / static_cast<double>(calls));
  }
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

int flood(const char *addr, long calls) {
  // A port on ADDR that nobody listens on: bind a socket to ADDR:0 and never listen. The
  // bind also fails if a wildcard listener held the port, so no connect below can succeed.
  int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa = loopback(addr, 0);
  socklen_t len = sizeof sa;
  if (holder < 0 || ::bind(holder, reinterpret_cast<sockaddr *>(&sa), sizeof sa) < 0 ||
      ::getsockname(holder, reinterpret_cast<sockaddr *>(&sa), &len) < 0)
    die(std::string("reserve a port on ") + addr);

  // One socket for all attempts: a refused connect() leaves it unconnected, so the loop
  // times the refusal and its counting, not socket() and close().
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    die("socket");
  long eperm = 0, other = 0;
  auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < calls; ++i) {
    if (::connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) == 0) {
      std::fprintf(stderr, "bench-calls: connect to %s succeeded\n", addr);
      return 1;
    }
    if (errno == EPERM)
      ++eperm;
    else
      ++other;
  }
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  std::printf("%ld %ld %.6f\n", eperm, other, elapsed.count());
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "getppid" && argc == 4) {
    std::printf("%.2f\n", median_ns(number(argv[2]), number(argv[3]),
                                    [] { ::syscall(SYS_getppid); }));
    return 0;
  }
  if (mode == "connect" && argc == 4) {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
      die("socket");
    sockaddr_in sa = loopback("127.0.0.1", 9);
    std::printf("%.2f\n", median_ns(number(argv[2]), number(argv[3]), [&] {
                  if (::connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) < 0)
                    die("connect 127.0.0.1:9 (udp)");
                }));
    return 0;
  }
  if (mode == "flood" && argc == 4)
    return flood(argv[2], number(argv[3]));
  std::fprintf(stderr, "usage: bench-calls getppid|connect CALLS REPS | flood ADDR CALLS\n");
  return 2;
}
