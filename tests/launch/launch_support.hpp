// Shared by the `ringfence run` / `ringfence gc` integration tests: a private cgroup
// parent per test, running ringfence in the foreground or in the background, fifos for
// synchronising with a service, and readers for /proc and the audit log.
#pragma once

#include "test_support.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace rf::test {

using namespace std::chrono_literals;

// How long a test waits for something that normally happens within milliseconds.
inline constexpr std::chrono::milliseconds kPatience = 5s;

// The cgroup2 mount point from /proc/self/mountinfo (a test failure when there is none).
std::string cgroup2_mount();

// A cgroup parent that only this test uses, for --cgroup-parent: "<own cgroup>/
// ringfence-test-<pid>-<n>", relative to the cgroup2 root. The destructor kills and
// removes whatever runs left behind (a test that checks cleanliness checks it first).
class RunParent {
public:
  RunParent();
  ~RunParent();
  RunParent(const RunParent &) = delete;
  RunParent &operator=(const RunParent &) = delete;

  const std::string &relative() const { return relative_; } // for --cgroup-parent
  const std::string &absolute() const { return absolute_; } // directory on the mount
  // Names of the cgroup directories below the parent (invocation cgroups).
  std::vector<std::string> children() const;

private:
  std::string relative_, absolute_;
};

// A process in the background, stdin /dev/null, stdout and stderr into files.
class Background {
public:
  // `fds` maps an open descriptor of this process to a descriptor number in the child.
  Background(const std::vector<std::string> &argv, const std::vector<std::string> &extra_env,
             const std::string &stdout_path, const std::string &stderr_path,
             const std::vector<std::pair<int, int>> &fds = {});
  ~Background(); // SIGKILLs and reaps the process if the test did not
  Background(const Background &) = delete;
  Background &operator=(const Background &) = delete;

  pid_t pid() const { return pid_; }
  // The exit status (or 128 + signal) once it ends within `limit`; nullopt if still running.
  std::optional<int> wait_exit(std::chrono::milliseconds limit = kPatience);
  bool exited() const { return status_.has_value(); }
  void signal(int signo) const;

private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
  std::optional<int> status_;
};

// A fifo the test holds open read-write, so neither side ever blocks in open(2).
class Fifo {
public:
  explicit Fifo(const std::string &path);
  ~Fifo();
  Fifo(const Fifo &) = delete;
  Fifo &operator=(const Fifo &) = delete;

  const std::string &path() const { return path_; }
  // The next line (without '\n'), or nullopt if none arrives within `limit`.
  std::optional<std::string> read_line(std::chrono::milliseconds limit = kPatience);
  void write_line(const std::string &line);

private:
  std::string path_, buffered_;
  int fd_ = -1;
};

// The capabilities a unit with a filter loses by default (ringfence(8), Escape prevention),
// as a CapabilityBoundingSet= value that drops them ("~" list), and as a bit mask.
inline constexpr const char *kEscapeCapabilityDropList =
    "~CAP_SYS_ADMIN CAP_BPF CAP_NET_ADMIN CAP_PERFMON CAP_SYS_PTRACE CAP_SYS_MODULE "
    "CAP_SYS_RAWIO CAP_MKNOD CAP_DAC_READ_SEARCH";
std::uint64_t escape_capabilities_mask();

// One test's world: a temporary directory, a cgroup parent, an audit log.
struct LaunchEnv {
  TempDir tmp;
  RunParent parent;
  std::string audit_log = tmp / "audit.jsonl";

  // ringfence run --audit-log L --cgroup-parent P ARGS...
  std::vector<std::string> run_argv(const std::vector<std::string> &args) const;
  CommandResult run(const std::vector<std::string> &args,
                    const std::vector<std::string> &extra_env = {},
                    const std::string &stdin_data = {}) const;
  // ringfence gc --audit-log L --cgroup-parent P
  CommandResult gc() const;
  // A unit file "<tmp>/units/NAME" (mode 0644) with `service_lines` in [Service].
  std::string write_unit(const std::string &name, const std::string &service_lines) const;
  // An executable shell script "<tmp>/NAME" (#!/bin/sh prepended).
  std::string write_script(const std::string &name, const std::string &body) const;
  // A service that writes "up" to `ready` and then waits until release() is called.
  std::string write_waiting_script(const Fifo &ready) const;
  void release() const; // ends every waiting script

  // Starts `ringfence run` in the background; its stdout/stderr go to <tmp>/NAME.out/.err.
  Background start(const std::vector<std::string> &args,
                   const std::vector<std::string> &extra_env = {},
                   const std::string &name = "ringfence") const;
};

// Polls `done` every few milliseconds until it holds or `limit` passes.
bool wait_until(const std::function<bool()> &done, std::chrono::milliseconds limit = kPatience);

std::vector<std::string> split_lines(const std::string &text);
// The value of "Key:" in /proc/PID/status text, whitespace trimmed ("" if absent).
std::string status_field(const std::string &status_text, const std::string &key);
// The state letter of /proc/PID/stat ('R', 'S', 'T', 'Z', ...), 0 when there is no process.
char process_state(pid_t pid);
// Exists and is not a zombie (a zombie cannot run any more).
bool process_alive(pid_t pid);
// Field 22 of /proc/PID/stat: the start time in clock ticks since boot.
std::string process_starttime(pid_t pid);
// The cgroup2 path of PID as this process sees it (the "0::" line without "0::").
std::string cgroup_of(pid_t pid);
// Live processes that have `argument` as one of their command-line words.
std::vector<pid_t> pids_with_argument(const std::string &argument);
// Zombie processes whose parent is this process.
std::vector<pid_t> own_zombie_children();

// Raw JSON value of the top-level `key` in one JSON-object line: a string with its quotes
// removed (escapes kept), or the literal text of a number, array or object; nullopt if absent.
std::optional<std::string> json_field(const std::string &line, const std::string &key);
// The lines of the audit log whose "event" is `event`.
std::vector<std::string> audit_records(const std::string &log_path, const std::string &event);

bool is_invocation_id(const std::string &text); // 32 lowercase hex digits
// The capability mask of the named bits, as /proc/PID/status prints it (16 hex digits).
std::string cap_mask_text(std::uint64_t mask);
// The caller's capability bounding set (this process's, which ringfence inherits): what a
// service keeps when nothing reduces it. Not every capability: a container may lack some.
std::uint64_t caller_bounding_set();

// The number of BPF programs, maps and links in the system.
struct BpfObjectCounts {
  int programs = 0, maps = 0, links = 0;
};
BpfObjectCounts count_bpf_objects();

} // namespace rf::test
