// The service's process between clone3() and execve(): one fixed sequence of setup steps.
// Everything it needs is prepared by the supervisor as plain data (ExecPlan, ExecArrays):
// the child does no lookups, parses nothing and allocates nothing.
#pragma once

#include "launch/credentials.hpp"

#include <csignal>
#include <linux/filter.h>
#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace rf::launch {

// The steps, in the order the child takes them. A failure report names one of these.
enum class SetupStep : int {
  file_descriptors,
  mount_namespace,
  bounding_set,
  keep_caps,
  groups,
  gid,
  uid,
  parent_death_signal,
  ambient_capabilities,
  working_directory,
  umask,
  rlimits,
  no_new_privs,
  seccomp,
  exec,
};
const char *step_description(SetupStep step); // "capability bounding set", for messages
const char *step_stage(SetupStep step);       // "bounding-set", for the audit record

// What the child writes to the report pipe when a step fails; nothing on success (the pipe
// is close-on-exec, so a successful execve() shows up as end-of-file).
struct ChildReport {
  SetupStep step;
  int err;
};

// The service's view of the file system: cgroupfs shows only its own cgroup and is
// read-only; listed files and directories are read-only.
struct MountPlan {
  static constexpr std::size_t kMaxCgroup2Mounts = 8;
  std::vector<std::string> cgroup2_mounts; // each gets the service's cgroup bound over it
  std::string own_cgroup;                  // file-system path of the invocation cgroup
  // Made read-only with all mounts below them (cgroup::control_mounts).
  std::vector<std::string> read_only_mounts;
  std::vector<std::string> read_only_paths;  // bound onto themselves read-only
};

struct ExecPlan {
  std::string command;                      // the command as written (for messages)
  std::vector<std::string> exec_candidates; // paths to try in order (PATH search done)
  std::vector<std::string> argv;
  std::vector<std::string> envp;
  int listen_pid_index = -1; // envp entry "LISTEN_PID=" the child completes with its pid
  int listen_fds = 0;        // fds 3..3+N-1 are passed on

  Credentials credentials;
  bool change_user = false;            // User= set: setresuid to credentials.uid
  std::uint64_t bounding_set = ~0ull;  // capabilities kept in the bounding set
  std::uint64_t ambient = 0;
  int last_cap = 40;                   // /proc/sys/kernel/cap_last_cap

  sigset_t ignored_signals{}; // SIG_IGN in the supervisor, inherited: reset for the service
  bool private_mounts = true; // see needs_private_mounts() in launcher.cpp

  std::vector<sock_filter> seccomp; // empty: no filter
  // The filter hands calls to the supervisor (seccomp::FilterOptions::notify): loaded with a
  // listener, which the child creates in the fd table it shares with the supervisor
  // (CLONE_FILES). Sharing it, the child's fd steps act on the supervisor's table too: its
  // fds end up close-on-exec, which is harmless (the supervisor never execs).
  bool seccomp_listener = false;
  // AuditTrail=best-effort: the same filter without notifications, loaded when the kernel
  // refuses a listener (EBUSY: the caller, or an ancestor, has one already).
  std::vector<sock_filter> seccomp_without_listener;
  bool restrict_realtime = false;    // RLIMIT_RTPRIO 0 (RestrictRealtime=)

  std::string working_directory = "/";
  bool working_directory_optional = false;
  mode_t umask = 022;
  MountPlan mounts;
  pid_t supervisor = 0; // the child dies with it (PR_SET_PDEATHSIG)
};

// execve()'s arrays, built by the supervisor before clone3: the child shares its memory
// (CLONE_VM) and must not allocate. Points into the plan's strings.
struct ExecArrays {
  explicit ExecArrays(const ExecPlan &plan);
  ExecArrays(const ExecArrays &) = delete;
  ExecArrays &operator=(const ExecArrays &) = delete;

  std::vector<char *> argv, envp;
  char listen_pid[32] = "LISTEN_PID="; // the child appends its pid
  int seccomp_listener = -1;           // the child stores the listener's fd number
};

// Runs the setup steps and execs the command; on failure reports the step over
// `report_fd` and exits. Called in the child right after clone3(), with all signals
// blocked (they stay blocked until execve, so nothing interrupts setup). The child shares
// the supervisor's memory (vfork-style, the supervisor waits): it writes nothing the
// supervisor reads but `arrays.listen_pid` and `arrays.seccomp_listener`, allocates nothing, and uses raw system calls
// where glibc would touch process-wide state (set*id broadcast to threads).
[[noreturn]] void run_child(const ExecPlan &plan, ExecArrays &arrays, int report_fd);

} // namespace rf::launch
