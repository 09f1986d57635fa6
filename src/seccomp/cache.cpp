#include "seccomp/cache.hpp"

#include "util/unique_fd.hpp"

#include <array>
#include <cerrno>
#include <charconv>
#include <concepts>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iterator>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rf::seccomp {
namespace {

// The key is some 5 KB of short lines, built on every launch: each line is appended in
// place, numbers in decimal as std::to_string writes them, with no temporary strings.
void append(std::string &key, std::string_view text) { key += text; }
void append(std::string &key, char c) { key += c; }
template <std::integral Number> void append(std::string &key, Number number) {
  char digits[std::numeric_limits<Number>::digits10 + 2];
  key.append(digits, std::to_chars(std::begin(digits), std::end(digits), number).ptr);
}

// One line of the key: the parts, then a newline.
template <typename... Parts> void add(std::string &key, const Parts &...parts) {
  (append(key, parts), ...);
  key += '\n';
}

// Enough for the key without growing it: the fixed lines, and a line per listed name.
std::size_t key_size_estimate(const Policy &p) {
  constexpr std::size_t kLine = 32; // "clock_nanosleep_time64=-1\n" is 26
  std::size_t lines = 16 + p.syscall_architectures.size();
  if (p.syscall_filter)
    lines += p.syscall_filter->entries.size() + p.syscall_filter->named_explicitly.size();
  if (p.syscall_log)
    lines += p.syscall_log->names.size();
  if (p.restrict_address_families)
    lines += p.restrict_address_families->families.size();
  return lines * kLine;
}

constexpr std::string_view kHex = "0123456789abcdef";

// The GNU build id note among the notes of one PT_NOTE segment; empty if there is none.
std::span<const unsigned char> build_id_note(std::span<const unsigned char> notes,
                                             std::size_t align) {
  auto padded = [align](std::size_t size) { return (size + align - 1) / align * align; };
  ElfW(Nhdr) note;
  for (std::size_t at = 0; at <= notes.size() && notes.size() - at >= sizeof note;) {
    std::memcpy(&note, notes.data() + at, sizeof note);
    std::size_t name = at + sizeof note, desc = name + padded(note.n_namesz);
    if (desc > notes.size() || notes.size() - desc < note.n_descsz)
      break;
    if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 &&
        std::memcmp(notes.data() + name, "GNU", 4) == 0)
      return notes.subspan(desc, note.n_descsz);
    at = desc + padded(note.n_descsz);
  }
  return {};
}

// dl_iterate_phdr() visits the executable first: look there, and stop.
int find_executable_build_id(dl_phdr_info *info, std::size_t, void *found) {
  for (const ElfW(Phdr) &segment : std::span(info->dlpi_phdr, info->dlpi_phnum)) {
    if (segment.p_type != PT_NOTE)
      continue;
    const auto *notes = reinterpret_cast<const unsigned char *>(info->dlpi_addr + segment.p_vaddr);
    auto id = build_id_note({notes, segment.p_memsz}, segment.p_align == 8 ? 8 : 4);
    if (!id.empty()) {
      *static_cast<std::span<const unsigned char> *>(found) = id;
      break;
    }
  }
  return 1;
}

// This executable, so that a changed ringfence compiles anew: its GNU build id, the hash the
// linker takes of the whole output, read from memory. Only without one, the file's device,
// inode, size and mtime: a /proc/self/exe lookup costs 20-40 µs of a launch.
void add_executable_identity(std::string &key) {
  std::span<const unsigned char> build_id;
  ::dl_iterate_phdr(find_executable_build_id, &build_id);
  // A hash of the output (sha1, md5, uuid: 16 bytes or more), not a fixed --build-id=0x...
  constexpr std::size_t kHashBytes = 16;
  if (build_id.size() >= kHashBytes) {
    key += "build-id ";
    for (unsigned char byte : build_id) {
      key += kHex[byte >> 4];
      key += kHex[byte & 0xf];
    }
    key += '\n';
    return;
  }
  struct stat st {};
  if (::stat("/proc/self/exe", &st) < 0)
    add(key, "unknown");
  else
    add(key, st.st_dev, ':', st.st_ino, ':', st.st_size, ':', st.st_mtim.tv_sec, '.',
        st.st_mtim.tv_nsec);
}

// Root's, and writable by nobody else: what a root process may trust.
bool trustworthy(const struct stat &st, bool directory) {
  return st.st_uid == 0 && !(st.st_mode & (S_IWGRP | S_IWOTH)) &&
         (directory ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
}

int open_no_follow(const std::string &directory) {
  return ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

// Made on first use (it lives in /run, a tmpfs): a launch that finds it makes nothing.
UniqueFd open_directory(const std::string &directory) {
  UniqueFd fd(open_no_follow(directory));
  if (!fd && errno == ENOENT) {
    std::string parent = directory.substr(0, directory.rfind('/'));
    ::mkdir(parent.c_str(), 0755);
    ::mkdir(directory.c_str(), 0700);
    fd = UniqueFd(open_no_follow(directory));
  }
  struct stat st {};
  return fd && ::fstat(fd.get(), &st) == 0 && trustworthy(st, true) ? std::move(fd) : UniqueFd();
}

// "<16 hex digits>.bpf": a hash of the key. The name only spreads keys over files; the key
// stored in the entry decides. std::hash (libstdc++'s _Hash_bytes, a Murmur2 variant) reads
// 8 bytes a step, where FNV-1a reads one: the key is 5 KB.
using EntryName = std::array<char, 21>;
EntryName entry_name(std::string_view key) {
  EntryName name{};
  std::uint64_t hash = std::hash<std::string_view>{}(key);
  for (int digit = 15; digit >= 0; --digit, hash >>= 4)
    name[static_cast<std::size_t>(digit)] = kHex[hash & 0xf];
  std::memcpy(name.data() + 16, ".bpf", 5); // with its NUL
  return name;
}

// An entry is the key, a NUL, then three counts (u32: program instructions, notified calls,
// killed calls) and those three arrays. The key is compared whole, so a hash collision can
// never hand a run another policy's filter.
std::optional<CompiledFilter> load(int dir_fd, const char *name, const std::string &key) {
  UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) < 0 || !trustworthy(st, false))
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
void store(int dir_fd, const char *name, const std::string &key, const CompiledFilter &filter) {
  std::string temporary = std::string(name) + ".tmp." + std::to_string(::getpid());
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
  if (!written || ::renameat(dir_fd, temporary.c_str(), dir_fd, name) < 0)
    ::unlinkat(dir_fd, temporary.c_str(), 0);
}

} // namespace

std::string cache_key(const Policy &p, FilterOptions options) {
  std::string key;
  key.reserve(key_size_estimate(p));
  add_executable_identity(key);
  add(key, options.notify ? "notify" : "errno");
  add(key, "entry v2"); // the entry's layout (see load())
  add(key, kProgramForm);
  const scmp_version *v = seccomp_version();
  add(key, "libseccomp ", v->major, '.', v->minor, '.', v->micro);
  if (p.syscall_filter) {
    add(key, p.syscall_filter->allow_list ? "allow" : "deny");
    for (const auto &[name, action] : p.syscall_filter->entries)
      add(key, name, '=', action);
    for (const std::string &name : p.syscall_filter->named_explicitly)
      add(key, "named ", name);
  }
  if (p.syscall_error_number)
    add(key, "errno ", *p.syscall_error_number);
  else
    add(key, "errno kill");
  for (const std::string &arch : p.syscall_architectures)
    add(key, "arch ", arch);
  if (p.syscall_log) {
    add(key, p.syscall_log->allow_list ? "log" : "log~");
    for (const std::string &name : p.syscall_log->names)
      add(key, "log ", name);
  }
  if (p.restrict_address_families) {
    add(key, p.restrict_address_families->allow_list ? "af" : "af~");
    for (int family : p.restrict_address_families->families)
      add(key, "af ", family);
  }
  if (p.restrict_namespaces)
    add(key, "ns ", p.restrict_namespaces->allowed);
  add(key, "flags ", p.lock_personality ? 'P' : '-', p.memory_deny_write_execute ? 'W' : '-',
      p.restrict_realtime ? 'R' : '-', p.restrict_suid_sgid ? 'S' : '-');
  return key;
}

Result<CompiledFilter> compile_cached(const Policy &policy, const std::string &directory,
                                      FilterOptions options) {
  std::string key = cache_key(policy, options);
  EntryName name = entry_name(key);
  UniqueFd dir = open_directory(directory);
  if (dir)
    if (std::optional<CompiledFilter> cached = load(dir.get(), name.data(), key))
      return std::move(*cached);
  Result<CompiledFilter> compiled = compile(policy, options);
  if (compiled && dir)
    store(dir.get(), name.data(), key, *compiled);
  return compiled;
}

} // namespace rf::seccomp
