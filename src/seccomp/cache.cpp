#include "seccomp/cache.hpp"

#include "util/hash.hpp"

#include "util/unique_fd.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <fcntl.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rf::seccomp {
namespace {

void add(std::string &key, const std::string &field) { key += field + '\n'; }

std::string executable_identity() {
  struct stat st {};
  if (::stat("/proc/self/exe", &st) < 0)
    return "unknown";
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
         std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

// Root's, and writable by nobody else: what a root process may trust.
bool trustworthy(int fd, bool directory) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && st.st_uid == 0 && !(st.st_mode & (S_IWGRP | S_IWOTH)) &&
         (directory ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
}

UniqueFd open_directory(const std::string &directory) {
  std::string parent = directory.substr(0, directory.rfind('/'));
  ::mkdir(parent.c_str(), 0755);
  ::mkdir(directory.c_str(), 0700);
  UniqueFd fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  return fd && trustworthy(fd.get(), true) ? std::move(fd) : UniqueFd();
}

// An entry is the key, a NUL, then three counts (u32: program instructions, notified calls,
// killed calls) and those three arrays. The key is compared whole, so a hash collision can
// never hand a run another policy's filter.
std::optional<CompiledFilter> load(int dir_fd, const std::string &name, const std::string &key) {
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  struct stat st {};
  if (!fd || !trustworthy(fd.get(), false) || ::fstat(fd.get(), &st) < 0)
    return std::nullopt;
  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  if (::pread(fd.get(), bytes.data(), bytes.size(), 0) != st.st_size)
    return std::nullopt;
  std::size_t at = key.size() + 1;
  std::uint32_t counts[3];
  if (bytes.size() < at + sizeof counts || bytes.compare(0, key.size(), key) != 0 ||
      bytes[key.size()] != '\0')
    return std::nullopt;
  std::memcpy(counts, bytes.data() + at, sizeof counts);
  at += sizeof counts;
  if (bytes.size() - at != counts[0] * sizeof(sock_filter) + counts[1] * sizeof(NotifiedCall) +
                               counts[2] * sizeof(int))
    return std::nullopt;
  CompiledFilter filter;
  filter.program.resize(counts[0]);
  filter.notified.resize(counts[1]);
  filter.killed.resize(counts[2]);
  auto take = [&](void *out, std::size_t size) {
    std::memcpy(out, bytes.data() + at, size);
    at += size;
  };
  take(filter.program.data(), counts[0] * sizeof(sock_filter));
  take(filter.notified.data(), counts[1] * sizeof(NotifiedCall));
  take(filter.killed.data(), counts[2] * sizeof(int));
  return filter;
}

// Written to a temporary name and renamed: a reader sees a whole entry or none.
void store(int dir_fd, const std::string &name, const std::string &key,
           const CompiledFilter &filter) {
  std::string temporary = name + ".tmp." + std::to_string(::getpid());
  UniqueFd fd(::openat(dir_fd, temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd)
    return;
  std::uint32_t counts[3] = {static_cast<std::uint32_t>(filter.program.size()),
                             static_cast<std::uint32_t>(filter.notified.size()),
                             static_cast<std::uint32_t>(filter.killed.size())};
  std::string bytes = key + '\0';
  auto put = [&](const void *data, std::size_t size) {
    bytes.append(static_cast<const char *>(data), size);
  };
  put(counts, sizeof counts);
  put(filter.program.data(), filter.program.size() * sizeof(sock_filter));
  put(filter.notified.data(), filter.notified.size() * sizeof(NotifiedCall));
  put(filter.killed.data(), filter.killed.size() * sizeof(int));
  bool written = ::write(fd.get(), bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  fd.reset();
  if (!written || ::renameat(dir_fd, temporary.c_str(), dir_fd, name.c_str()) < 0)
    ::unlinkat(dir_fd, temporary.c_str(), 0);
}

} // namespace

std::string cache_key(const Policy &p, FilterOptions options) {
  std::string key;
  add(key, executable_identity());
  add(key, options.notify ? "notify" : "errno");
  add(key, "entry v2"); // the entry's layout (see load())
  add(key, kProgramForm);
  const scmp_version *v = seccomp_version();
  add(key, "libseccomp " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
               std::to_string(v->micro));
  if (p.syscall_filter) {
    add(key, p.syscall_filter->allow_list ? "allow" : "deny");
    for (const auto &[name, action] : p.syscall_filter->entries)
      add(key, name + "=" + std::to_string(action));
    for (const std::string &name : p.syscall_filter->named_explicitly)
      add(key, "named " + name);
  }
  add(key, "errno " + (p.syscall_error_number ? std::to_string(*p.syscall_error_number) : "kill"));
  for (const std::string &arch : p.syscall_architectures)
    add(key, "arch " + arch);
  if (p.syscall_log) {
    add(key, p.syscall_log->allow_list ? "log" : "log~");
    for (const std::string &name : p.syscall_log->names)
      add(key, "log " + name);
  }
  if (p.restrict_address_families) {
    add(key, p.restrict_address_families->allow_list ? "af" : "af~");
    for (int family : p.restrict_address_families->families)
      add(key, "af " + std::to_string(family));
  }
  if (p.restrict_namespaces)
    add(key, "ns " + std::to_string(p.restrict_namespaces->allowed));
  add(key, std::string("flags ") + (p.lock_personality ? "P" : "-") +
               (p.memory_deny_write_execute ? "W" : "-") + (p.restrict_realtime ? "R" : "-") +
               (p.restrict_suid_sgid ? "S" : "-"));
  return key;
}

Result<CompiledFilter> compile_cached(const Policy &policy, const std::string &directory,
                                      FilterOptions options) {
  std::string key = cache_key(policy, options);
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.bpf",
                static_cast<unsigned long long>(fnv1a(key.data(), key.size())));
  UniqueFd dir = open_directory(directory);
  if (dir)
    if (std::optional<CompiledFilter> cached = load(dir.get(), name, key))
      return std::move(*cached);
  Result<CompiledFilter> compiled = compile(policy, options);
  if (compiled && dir)
    store(dir.get(), name, key, *compiled);
  return compiled;
}

} // namespace rf::seccomp
