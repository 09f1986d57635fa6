#include "unit/directives.hpp"

#include "policy/ip_prefix.hpp"
#include "policy/names.hpp"
#include "policy/syscall_groups.hpp"
#include "unit/exec_line.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <charconv>

namespace rf::unit {
namespace {

// ---------------------------------------------------------------------------------------
// Value helpers

std::optional<bool> parse_boolean(std::string_view v) {
  std::string s(v);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s == "1" || s == "yes" || s == "y" || s == "true" || s == "t" || s == "on")
    return true;
  if (s == "0" || s == "no" || s == "n" || s == "false" || s == "f" || s == "off")
    return false;
  return std::nullopt;
}

template <typename T> std::optional<T> parse_number(std::string_view s) {
  T value{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty())
    return std::nullopt;
  return value;
}

// systemd's valid_user_group_name() in its strict form, or a numeric id.
bool valid_user_group_name(std::string_view name) {
  if (auto id = parse_number<std::uint32_t>(name))
    return *id != 65535 && *id != 4294967295u; // the "nobody" sentinels of 16 and 32 bits
  if (name.empty() || name.size() > 31)
    return false;
  if (!(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_'))
    return false;
  for (size_t i = 1; i < name.size(); ++i) {
    char c = name[i];
    bool last_dollar = c == '$' && i + 1 == name.size();
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
          last_dollar))
      return false;
  }
  return true;
}

bool is_absolute_path(std::string_view p) { return !p.empty() && p[0] == '/'; }

// "512M", "2G", "infinity", "40%" — systemd's parse_size (base 1024) or a percentage.
bool valid_size_or_percent(std::string_view v, bool allow_percent) {
  if (v == "infinity")
    return true;
  if (allow_percent && v.ends_with('%')) {
    auto n = parse_number<unsigned>(v.substr(0, v.size() - 1));
    return n && *n <= 100;
  }
  std::string_view digits = v;
  if (!digits.empty() && std::string_view("KMGTPE").find(digits.back()) != std::string_view::npos)
    digits.remove_suffix(1);
  return parse_number<std::uint64_t>(digits).has_value();
}

constexpr std::string_view kArchitectures[] = {
    "native", "x86",  "x86-64", "x32",      "arm",         "arm64",        "mips",
    "mips64", "mips64-n32", "mips-le", "mips64-le", "mips64-le-n32", "ppc", "ppc64",
    "ppc64-le", "s390", "s390x", "parisc", "parisc64", "riscv64", "loongarch64"};

// ---------------------------------------------------------------------------------------
// The fold

struct Fold {
  Policy &p;
  const UnitName &unit;
  Diagnostics &diags;
  Origin origin;
  // How `show` should record this assignment; handlers may change it.
  bool replaces = false; // drop earlier effective lines of this key
  bool shown = true;     // keep this line
  // CapabilityBoundingSet=/AmbientCapabilities= and RestrictNamespaces= merge rules need to
  // know whether the setting was touched before.
  bool bounding_set_touched = false;
  bool ambient_touched = false;

  Result<std::string> specifiers(std::string_view v) const { return expand_specifiers(v, unit); }
  void warn(const std::string &message) { diags.warning(origin, message); }
};

using Handler = Status (*)(Fold &, std::string_view);

Error bad(std::string message) { return Error::msg(std::move(message)); }

// ---- service directives ----

Status exec_start(Fold &f, std::string_view v) {
  if (v.empty()) {
    f.p.exec_start.clear();
    return Ok{};
  }
  auto cmd = parse_exec_command(v);
  if (!cmd)
    return cmd.error();
  for (auto &word : cmd->argv) {
    auto expanded = f.specifiers(word);
    if (!expanded)
      return expanded.error();
    word = *expanded;
  }
  f.p.exec_start.push_back(std::move(*cmd));
  return Ok{};
}

Status type(Fold &f, std::string_view v) {
  static constexpr std::pair<std::string_view, ServiceType> kTypes[] = {
      {"simple", ServiceType::simple},   {"exec", ServiceType::exec},
      {"forking", ServiceType::forking}, {"oneshot", ServiceType::oneshot},
      {"notify", ServiceType::notify},
      {"idle", ServiceType::simple}}; // idle only delays output on a console: simple here
  if (v.empty()) {
    f.p.type = ServiceType::simple;
    return Ok{};
  }
  for (auto [name, t] : kTypes)
    if (v == name) {
      f.p.type = t;
      return Ok{};
    }
  return bad("unsupported Type=" + std::string(v) + " (simple, exec, forking, oneshot, notify, idle)");
}

Status user_or_group(Fold &f, std::string_view v, std::optional<std::string> &field) {
  if (v.empty()) {
    field.reset();
    return Ok{};
  }
  auto name = f.specifiers(v);
  if (!name)
    return name.error();
  if (!valid_user_group_name(*name))
    return bad("invalid user or group name '" + *name + "'");
  field = *name;
  return Ok{};
}
Status user(Fold &f, std::string_view v) { return user_or_group(f, v, f.p.user); }
Status group(Fold &f, std::string_view v) { return user_or_group(f, v, f.p.group); }

Status supplementary_groups(Fold &f, std::string_view v) {
  if (v.empty()) {
    f.p.supplementary_groups.clear();
    return Ok{};
  }
  for (const auto &word : whitespace_words(v)) {
    auto name = f.specifiers(word);
    if (!name)
      return name.error();
    if (!valid_user_group_name(*name))
      return bad("invalid group name '" + *name + "'");
    f.p.supplementary_groups.push_back(*name);
  }
  return Ok{};
}

Status working_directory(Fold &f, std::string_view v) {
  f.p.working_directory.reset();
  f.p.working_directory_optional = false;
  if (v.empty())
    return Ok{};
  bool optional = v.front() == '-';
  if (optional)
    v.remove_prefix(1);
  auto dir = f.specifiers(v);
  if (!dir)
    return dir.error();
  if (*dir != "~" && !is_absolute_path(*dir))
    return bad("WorkingDirectory= must be an absolute path or '~', got '" + *dir + "'");
  f.p.working_directory = *dir;
  f.p.working_directory_optional = optional;
  return Ok{};
}

Status environment(Fold &f, std::string_view v) {
  if (v.empty()) {
    f.p.environment.clear();
    return Ok{};
  }
  auto words = split_words(v);
  if (!words)
    return words.error();
  for (const auto &word : *words) {
    auto assignment = f.specifiers(word);
    if (!assignment)
      return assignment.error();
    auto eq = assignment->find('=');
    if (eq == std::string::npos || !valid_env_name(std::string_view(*assignment).substr(0, eq)))
      return bad("invalid environment assignment '" + *assignment + "' (NAME=VALUE)");
    f.p.environment.push_back(*assignment);
  }
  return Ok{};
}

Status environment_file(Fold &f, std::string_view v) {
  if (v.empty()) {
    f.p.environment_files.clear();
    return Ok{};
  }
  EnvironmentFile file;
  file.optional = v.front() == '-';
  if (file.optional)
    v.remove_prefix(1);
  auto path = f.specifiers(v);
  if (!path)
    return path.error();
  if (!is_absolute_path(*path))
    return bad("EnvironmentFile= must be an absolute path, got '" + *path + "'");
  file.path = *path;
  f.p.environment_files.push_back(std::move(file));
  return Ok{};
}

Status umask_directive(Fold &f, std::string_view v) {
  if (v.empty()) {
    f.p.umask.reset();
    return Ok{};
  }
  mode_t mode = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), mode, 8);
  if (ec != std::errc() || end != v.data() + v.size() || mode > 0777)
    return bad("invalid UMask= '" + std::string(v) + "' (an octal mode, 0000..0777)");
  f.p.umask = mode;
  return Ok{};
}

Status no_new_privileges(Fold &, std::string_view v) {
  auto b = parse_boolean(v);
  if (v.empty())
    return Ok{};
  if (!b)
    return bad("invalid boolean '" + std::string(v) + "'");
  if (!*b)
    return bad("NoNewPrivileges=no cannot be honoured: ringfence always sets no_new_privs");
  return Ok{};
}

// systemd's config_parse_capability_set(): "" or "~" or a first assignment replaces;
// later lines merge by OR, or AND NOT with '~'.
Status capability_set(Fold &f, std::string_view v, std::uint64_t &set, bool &touched) {
  bool invert = !v.empty() && v.front() == '~';
  if (invert)
    v.remove_prefix(1);
  std::uint64_t sum = 0;
  for (const auto &word : whitespace_words(v)) {
    auto cap = names::capability_from_name(word);
    if (!cap)
      return bad("unknown capability '" + word + "'");
    sum |= std::uint64_t{1} << *cap;
  }
  std::uint64_t all = (std::uint64_t{1} << (names::capability_last() + 1)) - 1;
  if (sum == 0 || !touched) {
    set = invert ? (~sum & all) : sum;
    f.replaces = true;
  } else if (invert) {
    set &= ~sum;
  } else {
    set |= sum;
  }
  touched = true;
  f.shown = true; // an empty set is a setting, not a reset
  return Ok{};
}

Status capability_bounding_set(Fold &f, std::string_view v) {
  std::uint64_t set = f.p.capability_bounding_set.value_or(0);
  RF_TRY(capability_set(f, v, set, f.bounding_set_touched));
  f.p.capability_bounding_set = set;
  return Ok{};
}

Status ambient_capabilities(Fold &f, std::string_view v) {
  return capability_set(f, v, f.p.ambient_capabilities, f.ambient_touched);
}

// ---- IP filter ----

Status ip_list(std::string_view v, std::vector<IpPrefix> &list) {
  if (v.empty()) {
    list.clear();
    return Ok{};
  }
  for (const auto &word : whitespace_words(v)) {
    auto prefixes = parse_ip_prefix_word(word);
    if (!prefixes)
      return prefixes.error();
    list.insert(list.end(), prefixes->begin(), prefixes->end());
  }
  return Ok{};
}
Status ip_address_allow(Fold &f, std::string_view v) { return ip_list(v, f.p.ip_allow); }
Status ip_address_deny(Fold &f, std::string_view v) { return ip_list(v, f.p.ip_deny); }

Status boolean_into(std::string_view v, bool &field) {
  if (v.empty()) {
    field = false;
    return Ok{};
  }
  auto b = parse_boolean(v);
  if (!b)
    return bad("invalid boolean '" + std::string(v) + "'");
  field = *b;
  return Ok{};
}
Status ip_accounting(Fold &f, std::string_view v) { return boolean_into(v, f.p.ip_accounting); }

// ---- seccomp ----

// A SystemCallFilter=/SystemCallLog= word: the @group it names, or nullptr for a single
// syscall name. An unknown group or name is an error: ignored, it would fail open.
Result<const syscalls::Group *> group_or_syscall(std::string_view word) {
  if (!word.starts_with('@')) {
    if (!syscalls::is_known_name(word))
      return bad("unknown system call '" + std::string(word) + "'");
    return nullptr;
  }
  const syscalls::Group *group = syscalls::find_group(word);
  if (!group)
    return bad("unknown system call group '" + std::string(word) +
               "' (`ringfence syscalls` lists them)");
  return group;
}

Result<int> entry_action(std::string_view text) {
  if (text == "kill")
    return kKillAction;
  auto e = names::parse_errno(text);
  if (!e)
    return bad("invalid error number '" + std::string(text) + "' (an errno name, 1..4095, or kill)");
  return *e;
}

// One SystemCallFilter= word (a @group, or the single `name` when `group` is nullptr) into the
// filter: its names become entries with `action`, or leave it.
void fold_syscall_word(SyscallFilter &filter, const syscalls::Group *group, std::string_view name,
                       bool invert, int action) {
  bool add = invert != filter.allow_list; // deny entry in deny list, allow entry in allow list
  // "~name:errno" in an allow list denies with that errno: an entry too.
  bool entry = add || (filter.allow_list && action != kDefaultAction);
  if (group && entry)
    filter.entries.assign(group->expansion, action);
  else if (group)
    filter.entries.erase(group->expansion);
  else if (entry)
    filter.entries.assign(name, action);
  else
    filter.entries.erase(name);
  if (!group)
    filter.named_explicitly.insert(std::string(name));
}

// systemd 252's config_parse_syscall_filter(): the first assignment fixes the mode, an
// allow list implicitly includes @default, later entries add or remove relative to it.
Status system_call_filter(Fold &f, std::string_view v) {
  if (v.empty()) {
    f.p.syscall_filter.reset();
    return Ok{};
  }
  bool invert = v.front() == '~';
  if (invert)
    v.remove_prefix(1);
  if (!f.p.syscall_filter) {
    SyscallFilter filter;
    filter.allow_list = !invert;
    if (filter.allow_list)
      if (const syscalls::Group *defaults = syscalls::find_group("@default"))
        filter.entries.assign(defaults->expansion, kDefaultAction);
    f.p.syscall_filter = std::move(filter);
  }
  SyscallFilter &filter = *f.p.syscall_filter;
  for (const auto &word : whitespace_words(v)) {
    std::string_view name = word;
    int action = kDefaultAction;
    if (auto colon = name.find(':'); colon != std::string_view::npos) {
      auto parsed = entry_action(name.substr(colon + 1));
      if (!parsed)
        return parsed.error();
      action = *parsed;
      name = name.substr(0, colon);
      if (!invert)
        return bad("allow-listed system calls cannot take an error number ('" + word + "')");
    }
    auto group = group_or_syscall(name);
    if (!group)
      return group.error();
    fold_syscall_word(filter, *group, name, invert, action);
  }
  return Ok{};
}

Status system_call_error_number(Fold &f, std::string_view v) {
  if (v.empty() || v == "kill") {
    f.p.syscall_error_number.reset();
    return Ok{};
  }
  auto e = names::parse_errno(v);
  if (!e)
    return bad("invalid SystemCallErrorNumber= '" + std::string(v) +
               "' (an errno name, a number 1..4095, or kill)");
  f.p.syscall_error_number = *e;
  return Ok{};
}

Status system_call_architectures(Fold &f, std::string_view v) {
  if (v.empty()) {
    f.p.syscall_architectures.clear();
    return Ok{};
  }
  for (const auto &word : whitespace_words(v)) {
    if (std::find(std::begin(kArchitectures), std::end(kArchitectures), word) ==
        std::end(kArchitectures))
      return bad("unknown architecture '" + word + "'");
    if (std::find(f.p.syscall_architectures.begin(), f.p.syscall_architectures.end(), word) ==
        f.p.syscall_architectures.end())
      f.p.syscall_architectures.push_back(word);
  }
  return Ok{};
}

Status system_call_log(Fold &f, std::string_view v) {
  if (v.empty()) {
    f.p.syscall_log.reset();
    return Ok{};
  }
  bool invert = v.front() == '~';
  if (invert)
    v.remove_prefix(1);
  if (!f.p.syscall_log)
    f.p.syscall_log = SyscallLog{!invert, {}};
  SyscallLog &log = *f.p.syscall_log;
  auto fold = [&log, listed = invert != log.allow_list](std::string_view call) {
    if (listed)
      log.names.emplace(call);
    else
      log.names.erase(std::string(call));
  };
  for (const auto &word : whitespace_words(v)) {
    auto group = group_or_syscall(word);
    if (!group)
      return group.error();
    if (!*group)
      fold(word);
    else
      for (syscalls::NameId id : (*group)->expansion)
        fold(syscalls::name_of(id));
  }
  return Ok{};
}

Status restrict_address_families(Fold &f, std::string_view v) {
  if (v.empty()) {
    f.p.restrict_address_families.reset();
    return Ok{};
  }
  bool invert = v.front() == '~';
  if (invert)
    v.remove_prefix(1);
  if (v == "none") { // systemd: allow nothing, replacing what came before
    f.p.restrict_address_families = AddressFamilies{true, {}};
    f.replaces = true;
    return Ok{};
  }
  if (!f.p.restrict_address_families)
    f.p.restrict_address_families = AddressFamilies{!invert, {}};
  auto &families = *f.p.restrict_address_families;
  for (const auto &word : whitespace_words(v)) {
    auto af = names::address_family_from_name(word);
    if (!af)
      return bad("unknown address family '" + word + "'");
    auto it = std::find(families.families.begin(), families.families.end(), *af);
    if (invert != families.allow_list) {
      if (it == families.families.end())
        families.families.push_back(*af);
    } else if (it != families.families.end()) {
      families.families.erase(it);
    }
  }
  std::sort(families.families.begin(), families.families.end());
  return Ok{};
}

Status restrict_namespaces(Fold &f, std::string_view v) {
  if (v.empty()) {
    f.p.restrict_namespaces.reset();
    return Ok{};
  }
  if (auto b = parse_boolean(v)) { // yes: no namespaces at all; no: no restriction
    f.replaces = true;
    // systemd: "no" allows every type, and later lists merge into that.
    f.p.restrict_namespaces = NamespaceRestriction{*b ? 0 : names::all_namespace_flags()};
    return Ok{};
  }
  bool invert = v.front() == '~';
  if (invert)
    v.remove_prefix(1);
  std::uint64_t flags = 0;
  for (const auto &word : whitespace_words(v)) {
    auto flag = names::namespace_flag_from_name(word);
    if (!flag)
      return bad("unknown namespace type '" + word + "'");
    flags |= *flag;
  }
  if (!f.p.restrict_namespaces) {
    f.p.restrict_namespaces = NamespaceRestriction{invert ? (names::all_namespace_flags() & ~flags) : flags};
  } else if (invert) {
    f.p.restrict_namespaces->allowed &= ~flags;
  } else {
    f.p.restrict_namespaces->allowed |= flags;
  }
  return Ok{};
}

Status lock_personality(Fold &f, std::string_view v) { return boolean_into(v, f.p.lock_personality); }
Status memory_deny_write_execute(Fold &f, std::string_view v) {
  return boolean_into(v, f.p.memory_deny_write_execute);
}
Status restrict_realtime(Fold &f, std::string_view v) { return boolean_into(v, f.p.restrict_realtime); }
Status restrict_suid_sgid(Fold &f, std::string_view v) { return boolean_into(v, f.p.restrict_suid_sgid); }

// ---- resource limits (cgroup) ----

Status memory_limit(std::string_view v, std::optional<std::string> &field) {
  if (v.empty()) {
    field.reset();
    return Ok{};
  }
  if (!valid_size_or_percent(v, true))
    return bad("invalid size '" + std::string(v) + "' (bytes with K/M/G/T suffix, N%, or infinity)");
  field = std::string(v);
  return Ok{};
}
Status memory_max(Fold &f, std::string_view v) { return memory_limit(v, f.p.limits.memory_max); }
Status memory_high(Fold &f, std::string_view v) { return memory_limit(v, f.p.limits.memory_high); }
Status memory_swap_max(Fold &f, std::string_view v) {
  return memory_limit(v, f.p.limits.memory_swap_max);
}

Status tasks_max(Fold &f, std::string_view v) {
  if (v.empty()) {
    f.p.limits.tasks_max.reset();
    return Ok{};
  }
  bool ok = v == "infinity" || parse_number<std::uint64_t>(v) ||
            (v.ends_with('%') && parse_number<unsigned>(v.substr(0, v.size() - 1)) &&
             *parse_number<unsigned>(v.substr(0, v.size() - 1)) <= 100);
  if (!ok)
    return bad("invalid TasksMax= '" + std::string(v) + "' (a number, N%, or infinity)");
  f.p.limits.tasks_max = std::string(v);
  return Ok{};
}

Status cpu_quota(Fold &f, std::string_view v) {
  if (v.empty()) {
    f.p.limits.cpu_quota.reset();
    return Ok{};
  }
  auto n = v.ends_with('%') ? parse_number<unsigned>(v.substr(0, v.size() - 1)) : std::nullopt;
  if (!n || *n == 0)
    return bad("invalid CPUQuota= '" + std::string(v) + "' (a percentage, e.g. 20%)");
  f.p.limits.cpu_quota = std::string(v);
  return Ok{};
}

Status weight(std::string_view v, std::optional<std::string> &field, bool allow_idle) {
  if (v.empty()) {
    field.reset();
    return Ok{};
  }
  auto n = parse_number<unsigned>(v);
  if (!(allow_idle && v == "idle") && !(n && *n >= 1 && *n <= 10000))
    return bad("invalid weight '" + std::string(v) + "' (1..10000)");
  field = std::string(v);
  return Ok{};
}
Status cpu_weight(Fold &f, std::string_view v) { return weight(v, f.p.limits.cpu_weight, true); }
Status io_weight(Fold &f, std::string_view v) { return weight(v, f.p.limits.io_weight, false); }

// ---- ringfence's own ----

Status audit_trail(Fold &f, std::string_view v) {
  if (v.empty() || v == "required")
    f.p.audit_trail = AuditTrail::required;
  else if (v == "best-effort")
    f.p.audit_trail = AuditTrail::best_effort;
  else
    return bad("invalid AuditTrail= '" + std::string(v) + "' (required or best-effort)");
  return Ok{};
}

Status allow_unfiltered_inherited_sockets(Fold &f, std::string_view v) {
  return boolean_into(v, f.p.allow_unfiltered_inherited_sockets);
}

struct Directive {
  std::string_view name;
  Handler apply;
  bool list;     // repeated lines accumulate; an empty line resets
  bool sandbox;  // may appear in a policy fragment
};

constexpr Directive kServiceDirectives[] = {
    {"ExecStart", exec_start, true, false},
    {"Type", type, false, false},
    {"User", user, false, false},
    {"Group", group, false, false},
    {"SupplementaryGroups", supplementary_groups, true, false},
    {"WorkingDirectory", working_directory, false, false},
    {"Environment", environment, true, false},
    {"EnvironmentFile", environment_file, true, false},
    {"UMask", umask_directive, false, true},
    {"NoNewPrivileges", no_new_privileges, false, true},
    {"CapabilityBoundingSet", capability_bounding_set, true, true},
    {"AmbientCapabilities", ambient_capabilities, true, true},
    {"IPAddressAllow", ip_address_allow, true, true},
    {"IPAddressDeny", ip_address_deny, true, true},
    {"IPAccounting", ip_accounting, false, true},
    {"SystemCallFilter", system_call_filter, true, true},
    {"SystemCallErrorNumber", system_call_error_number, false, true},
    {"SystemCallArchitectures", system_call_architectures, true, true},
    {"SystemCallLog", system_call_log, true, true},
    {"RestrictAddressFamilies", restrict_address_families, true, true},
    {"RestrictNamespaces", restrict_namespaces, true, true},
    {"LockPersonality", lock_personality, false, true},
    {"MemoryDenyWriteExecute", memory_deny_write_execute, false, true},
    {"RestrictRealtime", restrict_realtime, false, true},
    {"RestrictSUIDSGID", restrict_suid_sgid, false, true},
    {"MemoryMax", memory_max, false, true},
    {"MemoryHigh", memory_high, false, true},
    {"MemorySwapMax", memory_swap_max, false, true},
    {"TasksMax", tasks_max, false, true},
    {"CPUQuota", cpu_quota, false, true},
    {"CPUWeight", cpu_weight, false, true},
    {"IOWeight", io_weight, false, true},
    {"AuditTrail", audit_trail, false, true},
    {"AllowUnfilteredInheritedSockets", allow_unfiltered_inherited_sockets, false, true},
};

const Directive *find_directive(std::string_view key) {
  for (const auto &d : kServiceDirectives)
    if (d.name == key)
      return &d;
  return nullptr;
}

} // namespace
} // namespace rf::unit

#include "unit/directive_classes.inc"

namespace rf::unit {

DirectiveClass classify_directive(const std::string &section, const std::string &key) {
  if (section == "Service" && (find_directive(key) || key == "Policy"))
    return DirectiveClass::enforced;
  return classify_other_directive(section, key);
}

namespace {

bool runs_as_root(const Policy &p) { return !p.user || *p.user == "root" || *p.user == "0"; }

// The default bounding set of a filtered service drops the capabilities that would let it
// leave its sandbox; a unit that keeps them should know what that means.
void warn_escape_capabilities(const BuiltPolicy &built, Diagnostics &diags) {
  const Policy &p = built.policy;
  if (!p.has_confinement() || !p.capability_bounding_set)
    return;
  std::uint64_t kept = *p.capability_bounding_set & kSandboxEscapeCapabilities;
  if (!runs_as_root(p))
    kept &= p.ambient_capabilities;
  if (!kept)
    return;
  std::string names;
  for (int cap = 0; cap < 64; ++cap)
    if (kept >> cap & 1)
      names += (names.empty() ? "" : ", ") + std::string(names::capability_name(cap));
  Origin origin;
  for (const auto &e : built.effective)
    if (e.key == "CapabilityBoundingSet")
      origin = e.origin;
  diags.warning(origin, "CapabilityBoundingSet= keeps " + names +
                            ": with it, the service can leave its sandbox (detach its filters, "
                            "leave its cgroup)");
}

} // namespace

BuiltPolicy build_policy(const LoadedUnit &unit, const std::vector<std::string> &adhoc_command,
                         Diagnostics &diags) {
  BuiltPolicy built;
  Policy &p = built.policy;
  p.unit_name = unit.name.full;
  p.unit_path = unit.fragment;
  Fold fold{p, unit.name, diags, {}};
  std::set<std::string> policy_files(unit.policies.begin(), unit.policies.end());
  std::vector<Origin> exec_origins; // of the ExecStart= lines in effect
  bool exec_start_rejected = false;

  for (const auto &a : unit.assignments) {
    fold.origin = a.origin;
    switch (classify_directive(a.section, a.key)) {
    case DirectiveClass::enforced: break;
    case DirectiveClass::ignored: continue;
    case DirectiveClass::unsupported:
      diags.warning(a.origin, a.key + "= is not supported by ringfence, ignoring");
      continue;
    case DirectiveClass::unenforced:
      diags.error(a.origin, a.key + "= is a protection ringfence does not enforce yet; "
                                    "refusing to run with less protection than asked");
      p.unenforced.emplace_back(a.key, a.origin);
      continue;
    case DirectiveClass::unknown:
      diags.error(a.origin, "unknown directive " + a.key + "= in [" + a.section + "]");
      continue;
    }
    const Directive *d = find_directive(a.key);
    if (!d) // Policy=: the loader has already put the fragment's lines in its place
      continue;
    if (policy_files.count(a.origin.file) && !d->sandbox) {
      diags.error(a.origin, a.key + "= is not a sandbox directive and cannot be set by a policy fragment");
      continue;
    }
    fold.replaces = !d->list || a.value.empty();
    fold.shown = !a.value.empty();
    if (auto status = d->apply(fold, a.value); !status) {
      diags.error(a.origin, status.error().message());
      exec_start_rejected |= a.key == "ExecStart";
      continue;
    }
    if (a.key == "ExecStart") {
      if (a.value.empty())
        exec_origins.clear();
      else
        exec_origins.push_back(a.origin);
    }
    if (fold.replaces)
      std::erase_if(built.effective, [&](const auto &e) { return e.key == a.key; });
    if (fold.shown)
      built.effective.push_back({a.key, a.value, a.origin});
  }

  if (!adhoc_command.empty()) {
    // Taken verbatim, as the shell already expanded what the caller meant.
    p.exec_start.assign(1, ExecCommand{adhoc_command, std::nullopt, false, false});
  } else if (p.exec_start.empty() && !exec_start_rejected) {
    diags.error({unit.fragment.empty() ? unit.name.full : unit.fragment, 0},
                "no ExecStart= (a service needs a command)");
  } else if (p.exec_start.size() > 1 && p.type != ServiceType::oneshot) {
    diags.error(exec_origins[1], "several ExecStart= commands are only allowed with Type=oneshot");
  }
  p.ip_allow = reduce_prefixes(std::move(p.ip_allow));
  p.ip_deny = reduce_prefixes(std::move(p.ip_deny));
  warn_escape_capabilities(built, diags);
  return built;
}

} // namespace rf::unit
