#include "test_support.hpp"

#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace rf::test {
namespace {

std::string env_or_die(const char *name) {
  const char *v = std::getenv(name);
  if (!v) {
    ADD_FAILURE() << name << " is not set; run the tests through `meson test`";
    return {};
  }
  return v;
}

} // namespace

std::string ringfence_bin() { return env_or_die("RINGFENCE_BIN"); }
std::string data_dir() { return env_or_die("RINGFENCE_TEST_DATA"); }
std::string source_root() { return env_or_die("RINGFENCE_SOURCE_ROOT"); }
std::string helpers_dir() { return env_or_die("RINGFENCE_HELPERS"); }

CommandResult run_command(const std::vector<std::string> &argv,
                          const std::vector<std::string> &extra_env,
                          const std::string &stdin_data) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
    return {};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);

  std::vector<std::string> env_store;
  for (char **e = environ; *e; ++e)
    env_store.emplace_back(*e);
  for (const auto &e : extra_env)
    env_store.push_back(e);
  std::vector<char *> envp, args;
  for (auto &e : env_store)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto &a : argv_copy)
    args.push_back(a.data());
  args.push_back(nullptr);

  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  CommandResult result;
  if (rc != 0) {
    close(in[1]);
    close(out[0]);
    close(err[0]);
    result.err = "posix_spawn failed";
    return result;
  }
  if (!stdin_data.empty()) {
    // A command that exits without reading its input must not kill the test binary with
    // SIGPIPE: block it for this write and discard the one it raised.
    sigset_t pipe_signal, previous;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, &previous);
    ssize_t n = write(in[1], stdin_data.data(), stdin_data.size());
    if (n < 0 && errno == EPIPE) {
      const timespec no_wait{};
      sigtimedwait(&pipe_signal, nullptr, &no_wait);
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  }
  close(in[1]);

  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string *sinks[2] = {&result.out, &result.err};
  int open_count = 2;
  while (open_count > 0) {
    if (poll(fds, 2, -1) < 0 && errno != EINTR)
      break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      char buf[4096];
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      } else {
        sinks[i]->append(buf, static_cast<size_t>(n));
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string &path, const std::string &text, int mode) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
  }
  chmod(path.c_str(), static_cast<mode_t>(mode));
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/ringfence-test-XXXXXX";
  const char *p = mkdtemp(tmpl);
  path_ = p ? p : "";
  // mkdtemp makes 0700; the trust check wants no group/other write, which holds.
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty())
    std::filesystem::remove_all(path_, ec);
}

} // namespace rf::test
