#include "audit/trace_set.hpp"

#include "cgroup/invocations.hpp"
#include "syscall_trace.build_id.h"
#include "sandbox_abi.h"
#include "util/background.hpp"

#include <algorithm>
#include <bpf/bpf.h>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>
#include <fcntl.h>
#include <map>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include "syscall_trace.skel.h"
#pragma GCC diagnostic pop

namespace rf::audit {
namespace {

// On a run's cgroup: the set its supervisor holds. On the parent: the set a keeper holds
// for a while after the last run (so that the next one need not load it again).
constexpr const char *kAdvertXattr = "trusted.ringfence.trace";
constexpr const char *kKeeperXattr = "trusted.ringfence.trace_keeper";
constexpr unsigned kKeepSeconds = 10;

// Raw tracepoints: no tracefs needed, and nothing that puts every system call of the
// machine on the slow path, as syscalls:* tracepoints would (see docs/design.md).
struct Attachment {
  bpf_program *(*program)(const syscall_trace &);
  const char *tracepoint;
};
#define RF_PROG(name) [](const syscall_trace &s) { return s.progs.name; }
const Attachment kAttachments[] = {
    {RF_PROG(rf_signal_generate), "signal_generate"},
};
#undef RF_PROG
constexpr std::size_t kLinkCount = std::size(kAttachments);
enum MapSlot : std::size_t { kRunEvents = kLinkCount, kSyscallRules, kFdCount };

UniqueFd dup_fd(int fd) { return UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 3)); }

Result<UniqueFd> attach_one(const syscall_trace &skel, const Attachment &a) {
  int fd = bpf_raw_tracepoint_open(a.tracepoint, bpf_program__fd(a.program(skel)));
  if (fd < 0)
    return Error::from_errno(std::string("Failed to attach to the raw tracepoint ") + a.tracepoint,
                             -fd);
  return UniqueFd(fd);
}

bool map_is(int fd, bpf_map_type type, std::uint32_t key_size, std::uint32_t value_size) {
  bpf_map_info info{};
  std::uint32_t length = sizeof info;
  return bpf_obj_get_info_by_fd(fd, &info, &length) == 0 && info.type == type &&
         info.key_size == key_size && info.value_size == value_size;
}

std::string hex(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

// An advert: "<pid> <start time> <build> <fd>...": who holds the set, and its fd numbers
// there in slot order.
struct Advert {
  cgroup::SupervisorMark holder;
  std::vector<int> fds;
};

std::string advert_text(const cgroup::SupervisorMark &holder, const std::vector<UniqueFd> &fds) {
  std::string text = holder.str() + " " + hex(trace_build_id());
  for (const UniqueFd &fd : fds)
    text += " " + std::to_string(fd.get());
  return text;
}

std::optional<Advert> parse_advert(std::string_view text) {
  std::vector<std::string_view> words;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = std::min(text.find(' ', at), text.size());
    words.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  // Another build's set may have other maps: never shared.
  if (words.size() != 3 + kFdCount || words[2] != hex(trace_build_id()))
    return std::nullopt;
  Result<cgroup::SupervisorMark> holder =
      cgroup::SupervisorMark::parse(std::string(words[0]) + " " + std::string(words[1]));
  if (!holder)
    return std::nullopt;
  Advert advert{*holder, {}};
  for (std::size_t i = 3; i < words.size(); ++i) {
    int fd = -1;
    if (std::from_chars(words[i].data(), words[i].data() + words[i].size(), fd).ec != std::errc())
      return std::nullopt;
    advert.fds.push_back(fd);
  }
  return advert;
}

bool is_link(int fd) {
  bpf_link_info info{};
  std::uint32_t length = sizeof info;
  return bpf_obj_get_info_by_fd(fd, &info, &length) == 0 && info.type != BPF_LINK_TYPE_UNSPEC;
}

std::string get_xattr(int fd, const char *name) {
  char value[256];
  ssize_t n = ::fgetxattr(fd, name, value, sizeof value);
  return n > 0 ? std::string(value, static_cast<std::size_t>(n)) : std::string();
}

} // namespace

std::uint64_t trace_build_id() { return SYSCALL_TRACE_BUILD_ID; }

int TraceSet::run_events() const { return fds_[kRunEvents].get(); }
int TraceSet::syscall_rules() const { return fds_[kSyscallRules].get(); }

Result<TraceSet> TraceSet::attach() {
  SkelPtr<syscall_trace> skel(syscall_trace::open());
  if (!skel)
    return Error::from_errno("Failed to open the tracing programs");
  if (int err = syscall_trace::load(skel.get()); err < 0)
    return Error::from_errno("Failed to load the tracing programs", -err);
  std::vector<UniqueFd> fds;
  for (const Attachment &a : kAttachments) {
    Result<UniqueFd> link = attach_one(*skel, a);
    if (!link)
      return link.error(); // the links made so far detach as `fds` goes
    fds.push_back(std::move(*link));
  }
  fds.push_back(dup_fd(bpf_map__fd(skel->maps.run_events)));
  fds.push_back(dup_fd(bpf_map__fd(skel->maps.syscall_rules)));
  for (const UniqueFd &fd : fds)
    if (!fd)
      return Error::from_errno("Failed to keep the tracing programs' maps");
  return TraceSet(std::move(fds));
}

// Copies the fds an advert names from its holder. Errors mean "not from this one".
Result<TraceSet> TraceSet::borrow(const std::string &text) {
  std::optional<Advert> advert = parse_advert(text);
  if (!advert || !advert->holder.alive())
    return Error::msg("no live holder of a set of this build");
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, advert->holder.pid, 0)));
  if (!pidfd)
    return Error::from_errno("pidfd_open");
  std::vector<UniqueFd> fds;
  for (int number : advert->fds) {
    UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd.get(), number, 0)));
    if (!fd)
      return Error::from_errno("pidfd_getfd");
    fds.push_back(std::move(fd));
  }
  // The holder may have gone and its pid been reused since the advert was read: check that
  // it is still the same process, and what the fds are.
  if (!advert->holder.alive())
    return Error::msg("the holder is gone");
  for (std::size_t i = 0; i < kLinkCount; ++i)
    if (!is_link(fds[i].get()))
      return Error::msg("the advertised fds are not the tracing programs' links");
  if (!map_is(fds[kRunEvents].get(), BPF_MAP_TYPE_HASH_OF_MAPS, sizeof(std::uint64_t), 4) ||
      !map_is(fds[kSyscallRules].get(), BPF_MAP_TYPE_HASH, sizeof(sandbox_syscall_key),
              sizeof(sandbox_syscall_rule)))
    return Error::msg("the advertised fds are not the tracing programs' maps");
  return TraceSet(std::move(fds));
}

Result<TraceSet> TraceSet::share_or_attach(const std::string &parent, int parent_fd) {
  Result<std::vector<cgroup::LiveRun>> runs = cgroup::live_runs(parent, kAdvertXattr);
  if (!runs)
    return runs.error();
  std::vector<std::string> adverts;
  for (const cgroup::LiveRun &run : *runs)
    if (!run.advert.empty())
      adverts.push_back(run.advert);
  adverts.push_back(get_xattr(parent_fd, kKeeperXattr));
  for (const std::string &advert : adverts)
    if (Result<TraceSet> borrowed = borrow(advert); borrowed)
      return borrowed;
  return attach();
}

Status TraceSet::advertise(int cgroup_fd) const {
  Result<cgroup::SupervisorMark> self = cgroup::SupervisorMark::of_process(::getpid());
  if (!self)
    return self.error();
  std::string advert = advert_text(*self, fds_);
  if (::fsetxattr(cgroup_fd, kAdvertXattr, advert.data(), advert.size(), 0) < 0)
    return Error::from_errno("Failed to mark the run's cgroup with its tracing programs");
  return Ok{};
}

void TraceSet::sweep(const std::set<std::uint64_t> &live) const {
  std::vector<sandbox_syscall_key> dead_rules;
  sandbox_syscall_key rule{}, next_rule{};
  for (const void *at = nullptr; bpf_map_get_next_key(syscall_rules(), at, &next_rule) == 0;
       at = &rule) {
    if (!live.count(next_rule.cgroup))
      dead_rules.push_back(next_rule);
    rule = next_rule;
  }
  std::uint32_t count = static_cast<std::uint32_t>(dead_rules.size());
  if (count > 0)
    bpf_map_delete_batch(syscall_rules(), dead_rules.data(), &count, nullptr);
  std::uint64_t ring = 0, next_ring = 0;
  std::vector<std::uint64_t> dead_rings;
  for (const void *at = nullptr; bpf_map_get_next_key(run_events(), at, &next_ring) == 0;
       at = &ring) {
    if (!live.count(next_ring))
      dead_rings.push_back(next_ring);
    ring = next_ring;
  }
  for (std::uint64_t cgroup_id : dead_rings) // each change waits for a grace period
    if (!DetachedMapCall::start(run_events(), &cgroup_id, sizeof cgroup_id, nullptr, 0))
      bpf_map_delete_elem(run_events(), &cgroup_id);
}

// ---- one run ----

RunTrace::RunTrace(TraceSet set, std::string parent_path, UniqueFd parent,
                   std::uint64_t cgroup_id, std::vector<SyscallRule> rules)
    : set_(std::move(set)), parent_path_(std::move(parent_path)), parent_(std::move(parent)),
      cgroup_id_(cgroup_id), rules_(std::move(rules)) {}

RunTrace::RunTrace(RunTrace &&other) noexcept
    : set_(std::move(other.set_)), parent_path_(std::move(other.parent_path_)),
      parent_(std::move(other.parent_)), cgroup_id_(other.cgroup_id_),
      rules_(std::move(other.rules_)),
      enrolled_(std::exchange(other.enrolled_, false)) {}

Result<RunTrace> RunTrace::enroll(TraceSet set, const std::string &parent_path, int parent_fd,
                                  std::uint64_t cgroup_id, const std::vector<SyscallRule> &rules,
                                  RunEvents &events) {
  UniqueFd parent(::openat(parent_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent)
    return Error::from_errno("Failed to open the cgroup parent");
  RunTrace run(std::move(set), parent_path, std::move(parent), cgroup_id, rules);
  run.enrolled_ = true; // from here on, the destructor undoes what is done

  std::vector<sandbox_syscall_key> keys;
  std::vector<sandbox_syscall_rule> values;
  for (const SyscallRule &rule : rules) {
    keys.push_back({cgroup_id, static_cast<std::uint32_t>(rule.nr), 0});
    sandbox_syscall_rule value{};
    value.action = SANDBOX_SYSCALL_KILL;
    values.push_back(value);
  }
  if (!keys.empty()) {
    std::uint32_t count = static_cast<std::uint32_t>(keys.size());
    if (int err = bpf_map_update_batch(run.set_.syscall_rules(), keys.data(), values.data(),
                                       &count, nullptr);
        err < 0)
      return Error::from_errno("Failed to write the run's system call rules", -err);
  }
  // Last: from here on the programs report the run.
  RF_TRY(events.join(run.set_.run_events()));
  return run;
}

namespace {

bool parent_exists(int parent_fd) {
  return UniqueFd(::openat(parent_fd, "cgroup.procs", O_RDONLY | O_CLOEXEC)).get() >= 0;
}

} // namespace

// In the teardown child: when no other run below the parent holds the set, keeps it for the
// next run for a while.
bool RunTrace::hand_over(const std::string &parent_path) const {
  Result<cgroup::SupervisorMark> self = cgroup::SupervisorMark::of_process(::getpid());
  if (!self)
    return false;
  std::string advert = advert_text(*self, set_.fds_);
  {
    Result<cgroup::ParentLock> lock = cgroup::ParentLock::acquire(parent_.get());
    Result<std::vector<cgroup::LiveRun>> runs = cgroup::live_runs(parent_path, kAdvertXattr);
    if (!lock || !runs)
      return false;
    for (const cgroup::LiveRun &run : *runs)
      if (parse_advert(run.advert))
        return true; // that run holds the set
    if (::fsetxattr(parent_.get(), kKeeperXattr, advert.data(), advert.size(), 0) < 0)
      return false;
  }
  // Until a later keeper takes over, the parent is removed, or the time is up.
  for (unsigned tick = 0; tick < kKeepSeconds * 5; ++tick) {
    ::usleep(200'000);
    if (get_xattr(parent_.get(), kKeeperXattr) != advert || !parent_exists(parent_.get()))
      return true;
  }
  Result<cgroup::ParentLock> lock = cgroup::ParentLock::acquire(parent_.get());
  if (lock && get_xattr(parent_.get(), kKeeperXattr) == advert)
    ::fremovexattr(parent_.get(), kKeeperXattr);
  return true;
}

RunTrace::~RunTrace() {
  if (!enrolled_)
    return; // moved from
  std::vector<sandbox_syscall_key> keys;
  for (const SyscallRule &rule : rules_)
    keys.push_back({cgroup_id_, static_cast<std::uint32_t>(rule.nr), 0});
  std::uint32_t count = static_cast<std::uint32_t>(keys.size());
  if (count > 0)
    bpf_map_delete_batch(set_.syscall_rules(), keys.data(), &count, nullptr);
  // The child holds the programs last: when no other run holds them, they detach as it
  // exits, and the supervisor does not wait for that.
  std::vector<int> keep{parent_.get()};
  for (const UniqueFd &fd : set_.fds_)
    keep.push_back(fd.get());
  static_cast<void>(in_background(keep, [this] { return hand_over(parent_path_); }));
}

std::vector<SyscallTotal> RunTrace::syscall_totals() const {
  std::map<int, const SyscallRule *> by_nr;
  for (const SyscallRule &rule : rules_)
    by_nr[rule.nr] = &rule;
  // Batched over the whole table (every run's rules): one call per 1024 entries.
  constexpr std::uint32_t kBatch = 1024;
  std::vector<sandbox_syscall_key> keys(kBatch);
  std::vector<sandbox_syscall_rule> values(kBatch);
  sandbox_syscall_key position{};
  std::vector<SyscallTotal> totals;
  for (bool first = true;; first = false) {
    std::uint32_t count = kBatch;
    int err = bpf_map_lookup_batch(set_.syscall_rules(), first ? nullptr : &position, &position,
                                   keys.data(), values.data(), &count, nullptr);
    if (err < 0 && err != -ENOENT)
      break;
    for (std::uint32_t i = 0; i < count; ++i) {
      const sandbox_syscall_rule &value = values[i];
      auto rule = by_nr.find(static_cast<int>(keys[i].nr));
      if (keys[i].cgroup != cgroup_id_ || value.count == 0 || rule == by_nr.end())
        continue;
      Who last{static_cast<pid_t>(value.tgid),
               std::string(reinterpret_cast<const char *>(value.comm),
                           strnlen(reinterpret_cast<const char *>(value.comm), sizeof value.comm))};
      totals.push_back({*rule->second, value.count, std::move(last)});
    }
    if (err == -ENOENT)
      break;
  }
  return totals;
}

} // namespace rf::audit
