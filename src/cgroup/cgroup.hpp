// cgroup v2: finding the hierarchy, and owning one cgroup directory.
//
// cgroup2 is not always at /sys/fs/cgroup (hybrid layouts put it at
// /sys/fs/cgroup/unified), so the mount is always looked up, never assumed.
#pragma once

#include "util/result.hpp"
#include "util/unique_fd.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace rf::cgroup {

struct MountEntry {
  std::string mount_point; // octal escapes decoded
  std::string fstype;
};
// Every mount in mountinfo text (the format of /proc/self/mountinfo), in order.
std::vector<MountEntry> parse_mountinfo(std::string_view mountinfo);
Result<std::string> read_mountinfo();

// The mount points to make read-only, recursively, so that the service cannot write to
// any cgroup file system (v1 or v2) or bpffs: those mounts, except that a tmpfs holding
// nothing but cgroup mounts (/sys/fs/cgroup of the hybrid and legacy layouts) stands for
// all of them. One mount_setattr() instead of one per controller, on every launch.
std::vector<std::string> control_mounts(const std::vector<MountEntry> &mounts);

// Mount point of the first cgroup2 file system in mountinfo text (the format of
// /proc/self/mountinfo), with octal escapes such as "\040" decoded.
Result<std::string> find_cgroup2_mount(std::string_view mountinfo);
Result<std::string> find_cgroup2_mount(const std::vector<MountEntry> &mounts);
Result<std::string> find_cgroup2_mount();

// The calling process's cgroup2 path, relative to the hierarchy root ("/" or
// "/system.slice/x.service"), from the "0::" line of /proc/self/cgroup text.
Result<std::string> own_cgroup_path(std::string_view proc_self_cgroup);
Result<std::string> own_cgroup_path();

// The id BPF sees (bpf_get_current_cgroup_id) is the directory's inode number.
Result<std::uint64_t> cgroup_id(const std::string &path);

// Small cgroupfs file helpers, relative to a cgroup directory fd.
Result<std::string> read_cgroup_file(int dir_fd, const char *name);
Status write_cgroup_file(int dir_fd, const char *name, std::string_view value);

// The processes directly in the cgroup (cgroup.procs).
Result<std::vector<pid_t>> cgroup_processes(int dir_fd);

// Whether the cgroup or any descendant holds a process ("populated 1" in cgroup.events).
Result<bool> populated(int dir_fd);

// SIGKILLs every process of the cgroup at `path` and below (cgroup.kill, Linux 5.14+).
Status kill_cgroup(const std::string &path);
// Removes the cgroup at `path` and every cgroup below it, deepest first, retrying briefly
// while killed processes finish exiting (they keep a cgroup busy for a few ms).
Status remove_cgroup_tree(const std::string &path);

// A cgroup directory this process created and will remove. Move-only.
class CgroupDir {
public:
  // Makes a new cgroup at `path`, which must lie on a cgroup2 mount. An
  // existing directory is an error: someone else owns it.
  static Result<CgroupDir> create(const std::string &path);

  CgroupDir(CgroupDir &&other) noexcept;
  CgroupDir &operator=(CgroupDir &&other) noexcept;
  CgroupDir(const CgroupDir &) = delete;
  CgroupDir &operator=(const CgroupDir &) = delete;
  // Best-effort remove() if still owned; errors are dropped.
  ~CgroupDir();

  const std::string &path() const { return path_; }
  // O_DIRECTORY|O_CLOEXEC; for clone3(CLONE_INTO_CGROUP) and BPF attach.
  int fd() const { return fd_.get(); }
  std::uint64_t id() const { return id_; }

  // SIGKILLs every process in the cgroup and its descendants (cgroup.kill,
  // Linux 5.14+). Returns before they are gone; remove() waits for that.
  Status kill_all();
  // Removes the cgroup if nothing is left in it (no process, no child cgroup): the usual
  // end of a run, which then needs no kill. rmdir is the cheapest test of that. True when
  // the guard owns nothing any more.
  bool remove_if_empty();
  // Removes the cgroup and any the service made below it (remove_cgroup_tree).
  // After success the guard owns nothing; calling it again is a no-op.
  Status remove();

private:
  CgroupDir(std::string path, UniqueFd fd, std::uint64_t id);

  std::string path_;
  UniqueFd fd_;
  std::uint64_t id_ = 0;
  bool owned_ = false;
};

// flock() on a parent cgroup directory: one ringfence at a time changes the programs and
// maps its runs share.
class ParentLock {
public:
  static Result<ParentLock> acquire(int parent_fd);

private:
  explicit ParentLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_; // closing it releases the lock
};

} // namespace rf::cgroup
