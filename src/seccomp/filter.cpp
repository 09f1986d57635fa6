#include "seccomp/filter.hpp"

#include "policy/names.hpp"
#include "seccomp/compact.hpp"
#include "policy/syscall_groups.hpp"
#include "util/unique_fd.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <optional>
#include <memory>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rf::seccomp {
namespace {

using Context = std::unique_ptr<void, void (*)(scmp_filter_ctx)>;

constexpr std::uint32_t kEnosys = SCMP_ACT_ERRNO(ENOSYS);

// One rule for one syscall: an action under conditions that are ANDed. libseccomp drops the
// conditional rules of a syscall that also has an unconditional one, so a syscall with
// argument checks gets only conditional rules: the refusals, and their complement with the
// syscall's own action. The two sets never match the same call.
struct Rule {
  std::uint32_t action;
  std::vector<scmp_arg_cmp> conditions;
};

// The plan of one ABI. Its keys are libseccomp's numbers (the native one, or a negative
// pseudo-number for another ABI's own calls such as setuid32), which seccomp_rule_add
// translates into the ABI's numbers.
struct Plan {
  std::uint32_t arch = SCMP_ARCH_NATIVE;
  std::uint32_t default_action = SCMP_ACT_ALLOW;
  std::map<int, std::uint32_t> actions;         // syscall number → unconditional action
  std::map<int, std::vector<Rule>> conditional; // replaces actions[nr]
  std::vector<NotifiedCall> notified; // with FilterOptions::notify, native ABI
};

// libseccomp's number for a call of the plan's ABI; nullopt when that ABI has no such call.
std::optional<int> number(const Plan &plan, std::string_view name) {
  if (name.find('\0') != std::string_view::npos)
    return std::nullopt;
  const std::string copy(name);
  if (seccomp_syscall_resolve_name_arch(plan.arch, copy.c_str()) < 0)
    return std::nullopt;
  return seccomp_syscall_resolve_name(copy.c_str());
}

std::uint32_t entry_action(int action, std::uint32_t deny_action) {
  if (action == kDefaultAction)
    return deny_action;
  if (action == kKillAction)
    return SCMP_ACT_KILL_PROCESS;
  return SCMP_ACT_ERRNO(static_cast<std::uint32_t>(action));
}

std::uint32_t action_of(const Plan &plan, int nr) {
  auto it = plan.actions.find(nr);
  return it == plan.actions.end() ? plan.default_action : it->second;
}

bool allowed(std::uint32_t action) { return action == SCMP_ACT_ALLOW || action == SCMP_ACT_LOG; }

// SystemCallFilter=: an allow list denies every call systemd knows that it does not list,
// and answers ENOSYS for calls newer than the table (so that libc falls back); a deny list
// allows the rest.
void plan_filter(const Policy &policy, Plan &plan) {
  std::uint32_t deny_action = policy.syscall_error_number
                                  ? SCMP_ACT_ERRNO(static_cast<std::uint32_t>(
                                        *policy.syscall_error_number))
                                  : SCMP_ACT_KILL_PROCESS;
  if (!policy.syscall_filter)
    return;
  const SyscallFilter &filter = *policy.syscall_filter;
  if (!filter.allow_list) {
    for (const auto &[name, action] : filter.entries)
      if (std::optional<int> nr = number(plan, name))
        plan.actions[*nr] = entry_action(action, deny_action);
    return;
  }
  plan.default_action = kEnosys;
  for (std::string_view name : syscalls::expand_group("@known"))
    if (std::optional<int> nr = number(plan, name))
      plan.actions[*nr] = deny_action;
  for (const auto &[name, action] : filter.entries)
    if (std::optional<int> nr = number(plan, name))
      plan.actions[*nr] = action == kDefaultAction ? SCMP_ACT_ALLOW
                                                  : entry_action(action, deny_action);
}

// SystemCallLog=: allowed calls that are listed (or, with '~', not listed) are logged. A
// denied call stays denied, as the kernel's precedence would have it with systemd's filters.
void plan_log(const Policy &policy, Plan &plan) {
  if (!policy.syscall_log)
    return;
  const SyscallLog &log = *policy.syscall_log;
  std::map<int, bool> listed;
  for (const std::string &name : log.names)
    if (std::optional<int> nr = number(plan, name))
      listed[*nr] = true;
  if (log.allow_list) {
    for (const auto &[nr, yes] : listed)
      if (action_of(plan, nr) == SCMP_ACT_ALLOW)
        plan.actions[nr] = SCMP_ACT_LOG;
    return;
  }
  for (auto &[nr, action] : plan.actions)
    if (action == SCMP_ACT_ALLOW && !listed.count(nr))
      action = SCMP_ACT_LOG;
  if (plan.default_action == SCMP_ACT_ALLOW) {
    plan.default_action = SCMP_ACT_LOG;
    for (const auto &[nr, yes] : listed)
      if (!plan.actions.count(nr))
        plan.actions[nr] = SCMP_ACT_ALLOW;
  }
}

void refuse_whole(Plan &plan, const char *name, std::uint32_t action) {
  std::optional<int> nr = number(plan, name);
  if (nr && allowed(action_of(plan, *nr)))
    plan.actions[*nr] = action;
}

// Adds argument rules to an allowed syscall: `refusals` and `complement` (each rule with the
// syscall's own action).
void restrict_args(Plan &plan, const char *name, std::vector<Rule> refusals,
                   const std::vector<std::vector<scmp_arg_cmp>> &complement) {
  std::optional<int> nr = number(plan, name);
  if (!nr || !allowed(action_of(plan, *nr)))
    return; // refused anyway, or not a call of this ABI
  std::uint32_t own = action_of(plan, *nr);
  std::vector<Rule> &rules = plan.conditional[*nr];
  for (Rule &r : refusals)
    rules.push_back(std::move(r));
  for (const auto &conditions : complement)
    rules.push_back({own, conditions});
}

// Bits of one argument that must all be clear: each set bit refuses.
void refuse_bits(Plan &plan, const char *name, unsigned arg, std::uint64_t bits,
                 std::uint32_t action) {
  std::vector<Rule> refusals;
  for (std::uint64_t bit = 1; bit && bit <= bits; bit <<= 1)
    if (bits & bit)
      refusals.push_back({action, {SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, bit, bit)}});
  restrict_args(plan, name, std::move(refusals), {{SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, bits, 0)}});
}

// One argument that takes values from a small set: `allowed_values` keep the syscall's
// action, `refused_values` get `action`, anything else the filter's default.
void restrict_values(Plan &plan, const char *name, unsigned arg, std::uint64_t mask,
                     const std::vector<std::uint64_t> &allowed_values,
                     const std::vector<std::uint64_t> &refused_values, std::uint32_t action) {
  std::vector<Rule> refusals;
  for (std::uint64_t v : refused_values)
    refusals.push_back({action, {SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, mask, v)}});
  std::vector<std::vector<scmp_arg_cmp>> complement;
  for (std::uint64_t v : allowed_values)
    complement.push_back({SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, mask, v)});
  restrict_args(plan, name, std::move(refusals), complement);
}

// RestrictAddressFamilies=: socket()'s first argument; EAFNOSUPPORT, as systemd.
void plan_address_families(const Policy &policy, Plan &plan) {
  if (!policy.restrict_address_families)
    return;
  const AddressFamilies &families = *policy.restrict_address_families;
  std::vector<std::uint64_t> yes, no;
  for (int af = 0; af < AF_MAX; ++af) {
    bool listed = std::find(families.families.begin(), families.families.end(), af) !=
                  families.families.end();
    (listed == families.allow_list ? yes : no).push_back(static_cast<std::uint64_t>(af));
  }
  std::uint32_t refuse = SCMP_ACT_ERRNO(EAFNOSUPPORT);
  restrict_values(plan, "socket", 0, 0xffffffff, yes, no, refuse);
  std::optional<int> nr = number(plan, "socket");
  if (nr && plan.conditional.count(*nr)) // families the headers do not know yet
    plan.conditional[*nr].push_back(
        {refuse, {SCMP_CMP(0, SCMP_CMP_GE, static_cast<std::uint64_t>(AF_MAX))}});
}

// RestrictNamespaces=: the CLONE_NEW* bits of clone/unshare, and setns's nstype.
void plan_namespaces(const Policy &policy, Plan &plan) {
  if (!policy.restrict_namespaces)
    return;
  std::uint64_t refused = names::all_namespace_flags() & ~policy.restrict_namespaces->allowed;
  if (!refused)
    return;
  std::uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
  refuse_bits(plan, "clone", 0, refused, eperm);
  refuse_bits(plan, "unshare", 0, refused, eperm);
  // setns: nstype 0 means "any type", and with a pidfd nstype may combine several flags.
  // libseccomp allows one comparison per argument and resolves overlapping rules in its own
  // order, so the allowed values are listed exactly: every non-empty combination of
  // allowed flags. Any refused bit, or 0, is refused.
  std::vector<std::uint64_t> allowed_flags;
  for (std::uint64_t flag = 1; flag && flag <= names::all_namespace_flags(); flag <<= 1)
    if ((names::all_namespace_flags() & flag) && !(refused & flag))
      allowed_flags.push_back(flag);
  std::vector<std::vector<scmp_arg_cmp>> combinations;
  for (std::uint64_t subset = 1; subset < (std::uint64_t{1} << allowed_flags.size()); ++subset) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < allowed_flags.size(); ++i)
      if (subset >> i & 1)
        value |= allowed_flags[i];
    combinations.push_back({SCMP_A1(SCMP_CMP_EQ, value)});
  }
  std::vector<Rule> refusals{{eperm, {SCMP_A1(SCMP_CMP_EQ, 0)}}};
  for (std::uint64_t bit = 1; bit && bit <= refused; bit <<= 1)
    if (refused & bit)
      refusals.push_back({eperm, {SCMP_A1(SCMP_CMP_MASKED_EQ, bit, bit)}});
  restrict_args(plan, "setns", std::move(refusals), combinations);
  refuse_whole(plan, "clone3", kEnosys); // flags in memory: glibc falls back to clone()
}

void plan_personality(const Policy &policy, Plan &plan) {
  if (!policy.lock_personality)
    return;
  restrict_args(plan, "personality",
                {{SCMP_ACT_ERRNO(EPERM), {SCMP_A0(SCMP_CMP_NE, PER_LINUX)}}},
                {{SCMP_A0(SCMP_CMP_EQ, PER_LINUX)}});
}

void plan_write_execute(const Policy &policy, Plan &plan) {
  if (!policy.memory_deny_write_execute)
    return;
  std::uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
  constexpr std::uint64_t wx = PROT_WRITE | PROT_EXEC;
  restrict_args(plan, "mmap", {{eperm, {SCMP_A2(SCMP_CMP_MASKED_EQ, wx, wx)}}},
                {{SCMP_A2(SCMP_CMP_MASKED_EQ, wx, 0)},
                 {SCMP_A2(SCMP_CMP_MASKED_EQ, wx, PROT_WRITE)},
                 {SCMP_A2(SCMP_CMP_MASKED_EQ, wx, PROT_EXEC)}});
  refuse_bits(plan, "mprotect", 2, PROT_EXEC, eperm);
  refuse_bits(plan, "pkey_mprotect", 2, PROT_EXEC, eperm);
  refuse_bits(plan, "shmat", 2, SHM_EXEC, eperm);
}

void plan_realtime(const Policy &policy, Plan &plan) {
  if (!policy.restrict_realtime)
    return;
  constexpr std::uint64_t policy_mask = 0xffffffff & ~std::uint64_t{SCHED_RESET_ON_FORK};
  restrict_values(plan, "sched_setscheduler", 1, policy_mask,
                  {SCHED_OTHER, SCHED_BATCH, SCHED_IDLE}, {SCHED_FIFO, SCHED_RR, 6 /* DEADLINE */},
                  SCMP_ACT_ERRNO(EPERM));
}

void plan_suid_sgid(const Policy &policy, Plan &plan) {
  if (!policy.restrict_suid_sgid)
    return;
  std::uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
  constexpr std::uint64_t set_id = S_ISUID | S_ISGID;
  const std::pair<const char *, unsigned> mode_only[] = {
      {"chmod", 1}, {"fchmod", 1}, {"fchmodat", 2}, {"fchmodat2", 2} /* Linux 6.6 */,
      {"mkdir", 1}, {"mkdirat", 2}, {"mknod", 1}, {"mknodat", 2}, {"creat", 1}};
  for (auto [name, arg] : mode_only)
    refuse_bits(plan, name, arg, set_id, eperm);
  // open: only a file being created gets the mode.
  constexpr std::uint64_t creating = O_CREAT | __O_TMPFILE;
  const std::pair<const char *, unsigned> opens[] = {{"open", 1}, {"openat", 2}};
  for (auto [name, flags] : opens) {
    unsigned mode = flags + 1;
    std::vector<Rule> refusals;
    for (std::uint64_t create : {std::uint64_t{O_CREAT}, std::uint64_t{__O_TMPFILE}})
      for (std::uint64_t bit : {std::uint64_t{S_ISUID}, std::uint64_t{S_ISGID}})
        refusals.push_back({eperm,
                            {SCMP_CMP(flags, SCMP_CMP_MASKED_EQ, create, create),
                             SCMP_CMP(mode, SCMP_CMP_MASKED_EQ, bit, bit)}});
    restrict_args(plan, name, std::move(refusals),
                  {{SCMP_CMP(flags, SCMP_CMP_MASKED_EQ, creating, 0)},
                   {SCMP_CMP(mode, SCMP_CMP_MASKED_EQ, set_id, 0)}});
  }
  refuse_whole(plan, "openat2", kEnosys); // its mode is in memory
}

// io_uring performs socket, connect and open without the system calls the rules above see.
void plan_io_uring(const Policy &policy, Plan &plan) {
  bool allow_list = policy.syscall_filter && policy.syscall_filter->allow_list;
  if (!policy.restrict_address_families && !allow_list)
    return;
  for (const char *name : {"io_uring_setup", "io_uring_enter", "io_uring_register"}) {
    bool named = policy.syscall_filter && policy.syscall_filter->named_explicitly.count(name);
    if (!named)
      refuse_whole(plan, name, kEnosys);
  }
}

// The ABIs the filter lets in: the native one always (the service is started through it),
// and those SystemCallArchitectures= opts in. Every other ABI kills (SCMP_FLTATR_ACT_BADARCH):
// its numbers mean other calls.
Result<std::vector<std::uint32_t>> architectures(const Policy &policy) {
  std::vector<std::uint32_t> archs{seccomp_arch_native()};
  for (const std::string &arch : policy.syscall_architectures) {
    std::uint32_t token = arch == "native" || arch == "x86-64" ? SCMP_ARCH_X86_64
                          : arch == "x86"                     ? SCMP_ARCH_X86
                          : arch == "x32"                     ? SCMP_ARCH_X32
                                                              : 0;
    if (token == 0)
      return Error::msg("SystemCallArchitectures=" + arch +
                        ": not an ABI of this machine (ringfence filters x86-64, x86 and x32)");
    // i386 passes some arguments in memory, where seccomp cannot read them: socket() through
    // socketcall(), and mmap() (old_mmap) and shmat() (through ipc()).
    if (token == SCMP_ARCH_X86 && policy.restrict_address_families)
      return Error::msg("SystemCallArchitectures=x86 cannot be combined with "
                        "RestrictAddressFamilies=: i386 creates sockets through socketcall(), "
                        "whose arguments seccomp cannot read");
    if (token == SCMP_ARCH_X86 && policy.memory_deny_write_execute)
      return Error::msg("SystemCallArchitectures=x86 cannot be combined with "
                        "MemoryDenyWriteExecute=: i386's mmap() and ipc() take their "
                        "arguments in memory, where seccomp cannot read them");
    if (std::find(archs.begin(), archs.end(), token) == archs.end())
      archs.push_back(token);
  }
  return archs;
}

bool is_errno(std::uint32_t action) { return (action & 0xffff0000u) == SCMP_ACT_ERRNO(0); }

// The calls the child may make after loading the filter, before the supervisor can answer a
// notification (it waits for the exec): they keep their action.
bool needed_before_exec(int nr) {
  static const int kNeeded[] = {SCMP_SYS(rt_sigprocmask), SCMP_SYS(getpid), SCMP_SYS(execve),
                                SCMP_SYS(execveat),       SCMP_SYS(write),  SCMP_SYS(exit),
                                SCMP_SYS(exit_group)};
  return std::find(std::begin(kNeeded), std::end(kNeeded), nr) != std::end(kNeeded);
}

// Whether FilterOptions::notify hands this call of the native ABI to the supervisor.
bool notifiable(const Plan &plan, int nr, std::uint32_t action) {
  return !plan.conditional.count(nr) && !needed_before_exec(nr) &&
         (is_errno(action) || action == SCMP_ACT_LOG);
}

Plan make_plan(const Policy &policy, std::uint32_t arch, FilterOptions options = {}) {
  Plan plan;
  plan.arch = arch;
  plan_filter(policy, plan);
  plan_log(policy, plan);
  plan_io_uring(policy, plan);
  plan_address_families(policy, plan);
  plan_namespaces(policy, plan);
  plan_personality(policy, plan);
  plan_write_execute(policy, plan);
  plan_realtime(policy, plan);
  plan_suid_sgid(policy, plan);
  if (options.notify && arch == seccomp_arch_native())
    for (auto &[nr, action] : plan.actions)
      if (notifiable(plan, nr, action)) {
        plan.notified.push_back({nr, is_errno(action) ? static_cast<int>(action & 0xffffu) : 0});
        action = SCMP_ACT_NOTIFY;
      }
  return plan;
}

// The filter of one ABI. Rules are added exactly: libseccomp would otherwise rewrite an
// i386 socket() rule into a socketcall() one, whose arguments are not the same.
Result<Context> build_for(const Policy &policy, std::uint32_t arch, FilterOptions options,
                          CompiledFilter *lists = nullptr) {
  Plan plan = make_plan(policy, arch, options);
  if (lists && arch == seccomp_arch_native()) {
    lists->notified = plan.notified;
    for (const auto &[nr, action] : plan.actions)
      if (!plan.conditional.count(nr) && action == SCMP_ACT_KILL_PROCESS)
        lists->killed.push_back(nr);
  }
  Context ctx(seccomp_init(plan.default_action), seccomp_release);
  if (!ctx)
    return Error::msg("Failed to create a seccomp filter (libseccomp)");
  if (arch != seccomp_arch_native()) {
    if (int err = seccomp_arch_remove(ctx.get(), SCMP_ARCH_NATIVE); err < 0)
      return Error::from_errno("Failed to set up a seccomp filter for another ABI", -err);
    if (int err = seccomp_arch_add(ctx.get(), arch); err < 0)
      return Error::from_errno("Failed to add an ABI to the seccomp filter", -err);
  }
  if (int err = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
      err < 0)
    return Error::from_errno("Failed to set the seccomp filter's bad-ABI action", -err);
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);      // the child sets it itself
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2); // binary tree: log(n) lookups

  for (const auto &[nr, action] : plan.actions) {
    if (plan.conditional.count(nr) || action == plan.default_action)
      continue;
    if (int err = seccomp_rule_add_exact(ctx.get(), action, nr, 0); err < 0)
      return Error::from_errno("Failed to add a seccomp rule for system call " +
                                   std::to_string(nr),
                               -err);
  }
  for (const auto &[nr, rules] : plan.conditional)
    for (const Rule &rule : rules) {
      if (rule.action == plan.default_action)
        continue; // what does not match falls to the default anyway
      if (int err = seccomp_rule_add_exact_array(ctx.get(), rule.action, nr,
                                                 static_cast<unsigned>(rule.conditions.size()),
                                                 rule.conditions.data());
          err < 0)
        return Error::from_errno("Failed to add a seccomp argument rule", -err);
    }
  return ctx;
}

// One filter (one program, Seccomp_filters: 1) with a section per ABI.
Result<Context> build(const Policy &policy, FilterOptions options = {},
                      CompiledFilter *lists = nullptr) {
  Result<std::vector<std::uint32_t>> archs = architectures(policy);
  if (!archs)
    return archs.error();
  Result<Context> ctx = build_for(policy, archs->front(), options, lists);
  for (std::size_t i = 1; ctx && i < archs->size(); ++i) {
    Result<Context> other = build_for(policy, (*archs)[i], options, lists);
    if (!other)
      return other.error();
    if (int err = seccomp_merge(ctx->get(), other->get()); err < 0)
      return Error::from_errno("Failed to merge the seccomp filters of two ABIs", -err);
    static_cast<void>(other->release()); // seccomp_merge released it
  }
  return ctx;
}

// libseccomp 2.5 exports only to a file descriptor.
template <typename Export> Result<std::string> export_to_string(Export export_fn, const char *what) {
  UniqueFd memory(::memfd_create("ringfence-seccomp", MFD_CLOEXEC));
  if (!memory)
    return Error::from_errno("Failed to create a memfd");
  if (int err = export_fn(memory.get()); err < 0)
    return Error::from_errno(std::string("Failed to export the seccomp filter as ") + what, -err);
  off_t size = ::lseek(memory.get(), 0, SEEK_END);
  std::string bytes(static_cast<std::size_t>(size > 0 ? size : 0), '\0');
  if (::pread(memory.get(), bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size()))
    return Error::from_errno("Failed to read the exported seccomp filter");
  return bytes;
}

// The program libseccomp exports for the filter.
Result<std::vector<sock_filter>> exported_program(scmp_filter_ctx ctx) {
  Result<std::string> bytes =
      export_to_string([&](int fd) { return seccomp_export_bpf(ctx, fd); }, "BPF");
  if (!bytes)
    return bytes.error();
  std::vector<sock_filter> program(bytes->size() / sizeof(sock_filter));
  std::memcpy(program.data(), bytes->data(), program.size() * sizeof(sock_filter));
  return program;
}

} // namespace

Result<CompiledFilter> compile(const Policy &policy, FilterOptions options) {
  CompiledFilter filter;
  Result<Context> ctx = build(policy, options, &filter);
  if (!ctx)
    return ctx.error();
  Result<std::vector<sock_filter>> program = exported_program(ctx->get());
  if (!program)
    return program.error();
  std::optional<std::vector<sock_filter>> shorter = compact(*program);
  filter.program = shorter ? std::move(*shorter) : std::move(*program);
  return filter;
}

Result<std::vector<sock_filter>> libseccomp_program(const Policy &policy, FilterOptions options) {
  Result<Context> ctx = build(policy, options);
  if (!ctx)
    return ctx.error();
  return exported_program(ctx->get());
}

Result<std::string> pseudo_code(const Policy &policy, FilterOptions options) {
  Result<Context> ctx = build(policy, options);
  if (!ctx)
    return ctx.error();
  return export_to_string([&](int fd) { return seccomp_export_pfc(ctx->get(), fd); }, "PFC");
}

} // namespace rf::seccomp
