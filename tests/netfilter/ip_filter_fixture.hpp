// Shared by the privileged IP filter tests (tests/netfilter, tests/launch): a cgroup parent
// of each test's own, and views of what is attached to it and of the shared maps.
#pragma once

#include "cgroup/cgroup.hpp"
#include "util/unique_fd.hpp"

#include <atomic>
#include <bpf/bpf.h>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace rf::test {

// "/rf-iptest-<pid>-<n>" below the cgroup2 root, created here and removed (with any run
// cgroup a failed test left behind) on destruction. The IP filter programs stay attached
// to a parent until the directory is gone, so every test starts from a bare parent.
class IpTestParent {
public:
  IpTestParent() {
    static std::atomic<int> counter{0};
    Result<std::string> mount = cgroup::find_cgroup2_mount();
    if (!mount) {
      ADD_FAILURE() << mount.error().message();
      return;
    }
    mount_ = *mount;
    relative_ = "/rf-iptest-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    path_ = mount_ + relative_;
    if (::mkdir(path_.c_str(), 0755) < 0)
      ADD_FAILURE() << "mkdir " << path_ << ": " << std::strerror(errno);
  }
  ~IpTestParent() {
    if (path_.empty())
      return;
    static_cast<void>(cgroup::kill_cgroup(path_));
    if (Status removed = cgroup::remove_cgroup_tree(path_); !removed)
      ADD_FAILURE() << "cannot remove " << path_ << ": " << removed.error().message();
  }
  IpTestParent(const IpTestParent &) = delete;
  IpTestParent &operator=(const IpTestParent &) = delete;

  // For --cgroup-parent: "/rf-iptest-…".
  const std::string &relative() const { return relative_; }
  // The directory: "<cgroup2 mount>/rf-iptest-…".
  const std::string &path() const { return path_; }
  const std::string &mount() const { return mount_; }

  UniqueFd open() const { return UniqueFd(::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); }

  // The cgroups below the parent (the runs' directories), by name.
  std::vector<std::string> children() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto &entry : std::filesystem::directory_iterator(path_, ec))
      if (entry.is_directory())
        names.push_back(entry.path().filename());
    return names;
  }

private:
  std::string mount_, relative_, path_;
};

// Program ids attached to the cgroup for one hook.
inline std::vector<std::uint32_t> attached_programs(int cgroup_fd, bpf_attach_type type) {
  std::vector<std::uint32_t> ids(64);
  std::uint32_t count = static_cast<std::uint32_t>(ids.size()), flags = 0;
  if (bpf_prog_query(cgroup_fd, type, 0, &flags, ids.data(), &count) < 0) {
    ADD_FAILURE() << "bpf_prog_query: " << std::strerror(errno);
    return {};
  }
  ids.resize(count);
  return ids;
}

// Every key of a map, read with bpf_map_get_next_key.
template <typename Key> std::vector<Key> map_keys(int map_fd) {
  std::vector<Key> keys;
  Key key{}, next{};
  for (const void *at = nullptr; bpf_map_get_next_key(map_fd, at, &next) == 0; at = &key) {
    keys.push_back(next);
    key = next;
  }
  return keys;
}

// The cgroup id a rule key of the LPM tries belongs to.
template <typename Key> std::uint64_t cgroup_of(const Key &key) {
  std::uint64_t id = 0;
  std::memcpy(&id, key.cgroup, sizeof id);
  return id;
}

} // namespace rf::test
