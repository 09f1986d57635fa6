#include "launch/launch_support.hpp"

#include "cgroup/cgroup.hpp"

#include <atomic>
#include <bpf/bpf.h>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <linux/capability.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace rf::test {
namespace {

int poll_timeout(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

int decode_wait_status(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Removes one leftover cgroup: kill what runs in it, wait until it is empty, rmdir.
void remove_cgroup_tree(const std::string &path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const auto &entry : fs::directory_iterator(path, ec))
    if (entry.is_directory())
      remove_cgroup_tree(entry.path().string());
  int kill_fd = ::open((path + "/cgroup.kill").c_str(), O_WRONLY | O_CLOEXEC);
  if (kill_fd >= 0) {
    ssize_t n = ::write(kill_fd, "1", 1);
    (void)n; // an empty cgroup is fine too
    ::close(kill_fd);
  }
  wait_until([&] { return ::rmdir(path.c_str()) == 0 || errno == ENOENT; });
}

std::string stat_field(pid_t pid, int field) {
  std::string text = read_file("/proc/" + std::to_string(pid) + "/stat");
  // comm (field 2) may hold spaces and parentheses: count from the last ')'.
  std::size_t close = text.rfind(')');
  if (close == std::string::npos)
    return {};
  std::size_t at = close + 2; // field 3 starts here
  for (int i = 3; i < field; ++i) {
    at = text.find(' ', at);
    if (at == std::string::npos)
      return {};
    ++at;
  }
  return text.substr(at, text.find(' ', at) - at);
}

} // namespace

std::string cgroup2_mount() {
  Result<std::string> mount = cgroup::find_cgroup2_mount();
  if (!mount) {
    ADD_FAILURE() << mount.error().message();
    return {};
  }
  return *mount;
}

RunParent::RunParent() {
  static std::atomic<int> counter{0};
  Result<std::string> own = cgroup::own_cgroup_path();
  if (!own)
    ADD_FAILURE() << own.error().message();
  std::string base = !own || *own == "/" ? std::string() : *own;
  relative_ = base + "/ringfence-test-" + std::to_string(getpid()) + "-" +
              std::to_string(counter++);
  absolute_ = cgroup2_mount() + relative_;
  // Whatever an earlier, crashed test run left here is not this test's business.
  if (std::filesystem::exists(absolute_))
    remove_cgroup_tree(absolute_);
}

RunParent::~RunParent() {
  if (std::filesystem::exists(absolute_))
    remove_cgroup_tree(absolute_);
}

std::vector<std::string> RunParent::children() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto &entry : std::filesystem::directory_iterator(absolute_, ec))
    if (entry.is_directory())
      names.push_back(entry.path().filename().string());
  return names;
}

Background::Background(const std::vector<std::string> &argv,
                       const std::vector<std::string> &extra_env,
                       const std::string &stdout_path, const std::string &stderr_path,
                       const std::vector<std::pair<int, int>> &fds) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  for (const auto &[from, to] : fds)
    posix_spawn_file_actions_adddup2(&actions, from, to);

  std::vector<std::string> env_store;
  for (char **e = environ; *e; ++e)
    env_store.emplace_back(*e);
  env_store.insert(env_store.end(), extra_env.begin(), extra_env.end());
  std::vector<std::string> argv_store = argv;
  std::vector<char *> envp, args;
  for (auto &e : env_store)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  for (auto &a : argv_store)
    args.push_back(a.data());
  args.push_back(nullptr);

  int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "posix_spawn " << argv[0] << ": " << std::strerror(rc);
    pid_ = -1;
    return;
  }
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd_ < 0)
    ADD_FAILURE() << "pidfd_open: " << std::strerror(errno);
}

Background::~Background() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (pidfd_ >= 0)
    ::close(pidfd_);
}

std::optional<int> Background::wait_exit(std::chrono::milliseconds limit) {
  if (status_ || pid_ <= 0)
    return status_;
  pollfd entry{pidfd_, POLLIN, 0};
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int n = ::poll(&entry, 1, poll_timeout(deadline));
    if (n > 0)
      break;
    if (n == 0)
      return std::nullopt;
    if (errno != EINTR)
      return std::nullopt;
  }
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0)
    if (errno != EINTR)
      return std::nullopt;
  status_ = decode_wait_status(status);
  return status_;
}

void Background::signal(int signo) const {
  if (pid_ > 0 && !status_)
    ::kill(pid_, signo);
}

Fifo::Fifo(const std::string &path) : path_(path) {
  if (::mkfifo(path.c_str(), 0666) < 0 && errno != EEXIST)
    ADD_FAILURE() << "mkfifo " << path << ": " << std::strerror(errno);
  // Read-write: the open never waits for a peer, and reads never see end-of-file.
  fd_ = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0)
    ADD_FAILURE() << "open " << path << ": " << std::strerror(errno);
}

Fifo::~Fifo() {
  if (fd_ >= 0)
    ::close(fd_);
}

std::optional<std::string> Fifo::read_line(std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    std::size_t newline = buffered_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffered_.substr(0, newline);
      buffered_.erase(0, newline + 1);
      return line;
    }
    pollfd entry{fd_, POLLIN, 0};
    int n = ::poll(&entry, 1, poll_timeout(deadline));
    if (n == 0)
      return std::nullopt;
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return std::nullopt;
    }
    char buf[512];
    ssize_t got = ::read(fd_, buf, sizeof buf);
    if (got > 0)
      buffered_.append(buf, static_cast<std::size_t>(got));
  }
}

void Fifo::write_line(const std::string &line) {
  std::string text = line + "\n";
  ssize_t n = ::write(fd_, text.data(), text.size());
  EXPECT_EQ(n, static_cast<ssize_t>(text.size())) << "write to " << path_;
}

std::vector<std::string> LaunchEnv::run_argv(const std::vector<std::string> &args) const {
  std::vector<std::string> argv = {ringfence_bin(), "run", "--audit-log", audit_log,
                                   "--cgroup-parent", parent.relative()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

CommandResult LaunchEnv::run(const std::vector<std::string> &args,
                             const std::vector<std::string> &extra_env,
                             const std::string &stdin_data) const {
  return run_command(run_argv(args), extra_env, stdin_data);
}

CommandResult LaunchEnv::gc() const {
  return run_command(
      {ringfence_bin(), "gc", "--audit-log", audit_log, "--cgroup-parent", parent.relative()});
}

std::string LaunchEnv::write_unit(const std::string &name,
                                  const std::string &service_lines) const {
  std::string path = tmp / ("units/" + name);
  write_file(path, "[Unit]\nDescription=ringfence launch test\n\n[Service]\n" + service_lines,
             0644);
  return path;
}

std::string LaunchEnv::write_script(const std::string &name, const std::string &body) const {
  std::string path = tmp / name;
  write_file(path, "#!/bin/sh\n" + body, 0755);
  return path;
}

std::string LaunchEnv::write_waiting_script(const Fifo &ready) const {
  return write_script("wait.sh", "echo up >" + ready.path() + "\nwhile [ ! -e " + (tmp / "go") +
                                     " ]; do sleep 0.02; done\n");
}

void LaunchEnv::release() const { write_file(tmp / "go", ""); }

Background LaunchEnv::start(const std::vector<std::string> &args,
                            const std::vector<std::string> &extra_env,
                            const std::string &name) const {
  return Background(run_argv(args), extra_env, tmp / (name + ".out"), tmp / (name + ".err"));
}

bool wait_until(const std::function<bool()> &done, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline)
      return done();
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

std::vector<std::string> split_lines(const std::string &text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos)
      end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string status_field(const std::string &status_text, const std::string &key) {
  for (const std::string &line : split_lines(status_text)) {
    if (line.rfind(key + ":", 0) != 0)
      continue;
    std::string value = line.substr(key.size() + 1);
    std::size_t first = value.find_first_not_of(" \t");
    std::size_t last = value.find_last_not_of(" \t");
    return first == std::string::npos ? std::string() : value.substr(first, last - first + 1);
  }
  return {};
}

char process_state(pid_t pid) {
  std::string state = stat_field(pid, 3);
  return state.empty() ? '\0' : state[0];
}

bool process_alive(pid_t pid) {
  char state = process_state(pid);
  return state != '\0' && state != 'Z' && state != 'X';
}

std::string process_starttime(pid_t pid) { return stat_field(pid, 22); }

std::string cgroup_of(pid_t pid) {
  std::string text = read_file("/proc/" + std::to_string(pid) + "/cgroup");
  for (const std::string &line : split_lines(text))
    if (line.rfind("0::", 0) == 0)
      return line.substr(3);
  return {};
}

std::vector<pid_t> pids_with_argument(const std::string &argument) {
  std::vector<pid_t> pids;
  std::error_code ec;
  for (const auto &entry : std::filesystem::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0])))
      continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    std::string cmdline = read_file("/proc/" + name + "/cmdline");
    std::size_t start = 0;
    bool found = false;
    while (start < cmdline.size() && !found) {
      std::size_t end = cmdline.find('\0', start);
      if (end == std::string::npos)
        end = cmdline.size();
      found = cmdline.compare(start, end - start, argument) == 0;
      start = end + 1;
    }
    if (found && process_alive(pid))
      pids.push_back(pid);
  }
  return pids;
}

std::vector<pid_t> own_zombie_children() {
  std::vector<pid_t> zombies;
  std::string self = std::to_string(getpid());
  std::error_code ec;
  for (const auto &entry : std::filesystem::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0])))
      continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    if (stat_field(pid, 4) == self && process_state(pid) == 'Z')
      zombies.push_back(pid);
  }
  return zombies;
}

std::optional<std::string> json_field(const std::string &line, const std::string &key) {
  // Walk the top-level object so that a key inside a nested value or a string never matches.
  int depth = 0;
  std::size_t i = 0;
  auto skip_string = [&](std::size_t at) { // at: the opening quote; returns past the closing
    for (std::size_t j = at + 1; j < line.size(); ++j) {
      if (line[j] == '\\')
        ++j;
      else if (line[j] == '"')
        return j + 1;
    }
    return line.size();
  };
  while (i < line.size()) {
    char c = line[i];
    if (c == '"') {
      std::size_t end = skip_string(i);
      bool is_key = depth == 1 && line.substr(i + 1, end - i - 2) == key;
      std::size_t colon = line.find_first_not_of(" \t", end);
      if (is_key && colon != std::string::npos && line[colon] == ':') {
        std::size_t value = line.find_first_not_of(" \t", colon + 1);
        if (value == std::string::npos)
          return std::nullopt;
        if (line[value] == '"')
          return line.substr(value + 1, skip_string(value) - value - 2);
        std::size_t stop = value;
        int nested = 0;
        for (; stop < line.size(); ++stop) {
          char v = line[stop];
          if (v == '"') {
            stop = skip_string(stop) - 1;
          } else if (v == '[' || v == '{') {
            ++nested;
          } else if (v == ']' || v == '}') {
            if (nested == 0)
              break;
            --nested;
          } else if (v == ',' && nested == 0) {
            break;
          }
        }
        std::string raw = line.substr(value, stop - value);
        raw.erase(raw.find_last_not_of(" \t") + 1);
        return raw;
      }
      i = end;
      continue;
    }
    if (c == '{' || c == '[')
      ++depth;
    else if (c == '}' || c == ']')
      --depth;
    ++i;
  }
  return std::nullopt;
}

std::vector<std::string> audit_records(const std::string &log_path, const std::string &event) {
  std::vector<std::string> records;
  for (const std::string &line : split_lines(read_file(log_path)))
    if (json_field(line, "event") == event)
      records.push_back(line);
  return records;
}

bool is_invocation_id(const std::string &text) {
  if (text.size() != 32)
    return false;
  for (char c : text)
    if (!std::isxdigit(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c)))
      return false;
  return true;
}

std::string cap_mask_text(std::uint64_t mask) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(mask));
  return text;
}

std::uint64_t caller_bounding_set() {
  return std::stoull(status_field(read_file("/proc/self/status"), "CapBnd"), nullptr, 16);
}

std::uint64_t escape_capabilities_mask() {
  std::uint64_t mask = 0;
  for (int cap : {CAP_SYS_ADMIN, CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON, CAP_SYS_PTRACE,
                  CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_MKNOD, CAP_DAC_READ_SEARCH})
    mask |= 1ULL << cap;
  return mask;
}

BpfObjectCounts count_bpf_objects() {
  BpfObjectCounts counts;
  auto count = [](int (*next)(__u32, __u32 *)) {
    int n = 0;
    __u32 id = 0;
    while (next(id, &id) == 0)
      ++n;
    return n;
  };
  counts.programs = count(bpf_prog_get_next_id);
  counts.maps = count(bpf_map_get_next_id);
  counts.links = count(bpf_link_get_next_id);
  return counts;
}

} // namespace rf::test
