// `verify` and `show`: load a unit the way `run` will, and report what came of it.
#include "cli/cli.hpp"

#include "policy/ip_prefix.hpp"
#include "policy/names.hpp"
#include "unit/directives.hpp"
#include "seccomp/filter.hpp"
#include "util/json.hpp"

#include <cstdio>

namespace rf::cli {
namespace {

struct Loaded {
  unit::LoadedUnit unit;
  unit::BuiltPolicy built;
  Diagnostics diags;
};

Loaded load(const std::string &unit_arg, const UnitOptions &options) {
  Loaded l;
  unit::LoadRequest request{unit_arg, options.unit_name, options.overrides};
  l.unit = unit::load_unit(request, unit::SearchPaths::from_environment(), l.diags);
  if (!l.unit.name.full.empty() && !l.unit.missing)
    l.built = unit::build_policy(l.unit, {}, l.diags);
  return l;
}

void print_diagnostics(const Diagnostics &diags) {
  for (const auto &d : diags.items())
    std::fprintf(stderr, "%s\n", d.str().c_str());
}

const char *type_name(ServiceType t) {
  switch (t) {
  case ServiceType::simple: return "simple";
  case ServiceType::exec: return "exec";
  case ServiceType::forking: return "forking";
  case ServiceType::oneshot: return "oneshot";
  case ServiceType::notify: return "notify";
  }
  return "simple";
}

void write_prefixes(json::Writer &w, const char *key, const std::vector<IpPrefix> &list) {
  w.key(key).begin_array();
  for (const auto &p : list)
    w.value(format_prefix(p));
  w.end_array();
}

void write_strings(json::Writer &w, const char *key, const std::vector<std::string> &list) {
  w.key(key).begin_array();
  for (const auto &s : list)
    w.value(s);
  w.end_array();
}

// The validated policy in normalized form: what the enforcers will be given.
void write_policy(json::Writer &w, const Policy &p) {
  w.key("policy").begin_object();
  w.key("type").value(type_name(p.type));
  w.key("exec_start").begin_array();
  for (const auto &cmd : p.exec_start) {
    w.begin_object();
    write_strings(w, "argv", cmd.argv);
    w.key("ignore_failure").value(cmd.ignore_failure);
    w.end_object();
  }
  w.end_array();
  if (p.user)
    w.key("user").value(*p.user);
  if (p.group)
    w.key("group").value(*p.group);
  write_prefixes(w, "ip_address_allow", p.ip_allow);
  write_prefixes(w, "ip_address_deny", p.ip_deny);
  w.key("ip_accounting").value(p.ip_accounting);
  if (p.syscall_filter) {
    w.key("system_call_filter").begin_object();
    w.key("mode").value(p.syscall_filter->allow_list ? "allow" : "deny");
    w.key("syscalls").begin_object();
    for (const auto &[name, action] : p.syscall_filter->entries) {
      w.key(name);
      if (action == kDefaultAction)
        w.value(p.syscall_filter->allow_list ? "allow" : "deny");
      else if (action == kKillAction)
        w.value("kill");
      else
        w.value(std::string(names::errno_name(action)));
    }
    w.end_object().end_object();
  }
  if (p.syscall_error_number)
    w.key("system_call_error_number").value(std::string(names::errno_name(*p.syscall_error_number)));
  else
    w.key("system_call_error_number").value("kill");
  w.key("audit_trail").value(p.audit_trail == AuditTrail::required ? "required" : "best-effort");
  w.end_object();
}

int show_json(const Loaded &l) {
  json::Writer w;
  w.begin_object();
  w.key("unit").value(l.unit.name.full);
  w.key("fragment").value(l.unit.fragment);
  write_strings(w, "dropins", l.unit.dropins);
  write_strings(w, "policies", l.unit.policies);
  w.key("directives").begin_array();
  for (const auto &e : l.built.effective) {
    w.begin_object();
    w.key("key").value(e.key);
    w.key("value").value(e.value);
    w.key("file").value(e.origin.file);
    w.key("line").value(e.origin.line);
    w.end_object();
  }
  w.end_array();
  write_policy(w, l.built.policy);
  w.end_object();
  std::printf("%s\n", w.str().c_str());
  return 0;
}

int show_text(const Loaded &l) {
  std::printf("# %s\n", l.unit.name.full.c_str());
  if (!l.unit.fragment.empty())
    std::printf("# fragment: %s\n", l.unit.fragment.c_str());
  for (const auto &d : l.unit.dropins)
    std::printf("# drop-in: %s\n", d.c_str());
  for (const auto &p : l.unit.policies)
    std::printf("# policy: %s\n", p.c_str());
  std::printf("[Service]\n");
  for (const auto &e : l.built.effective)
    std::printf("%s=%s  # %s\n", e.key.c_str(), e.value.c_str(), e.origin.str().c_str());
  return 0;
}

} // namespace

int verify_command(const std::vector<std::string> &units, const UnitOptions &options) {
  bool failed = false;
  for (const auto &u : units) {
    Loaded l = load(u, options);
    print_diagnostics(l.diags);
    failed |= l.diags.has_errors();
  }
  return failed ? 1 : 0;
}

int show_command(const std::string &unit_arg, const UnitOptions &options) {
  Loaded l = load(unit_arg, options);
  print_diagnostics(l.diags);
  if (l.diags.has_errors())
    return 1;
  return options.json ? show_json(l) : show_text(l);
}

int inspect_command(const std::string &unit_arg, const UnitOptions &options) {
  Loaded l = load(unit_arg, options);
  print_diagnostics(l.diags);
  if (l.diags.has_errors())
    return 1;
  const Policy &policy = l.built.policy;
  if (!policy.has_seccomp()) {
    std::printf("# %s sets no seccomp directive: ringfence loads no filter for it\n",
                l.unit.name.full.c_str());
    return 0;
  }
  Result<std::string> code = seccomp::pseudo_code(policy, seccomp::FilterOptions{true}); // as run loads it
  if (!code) {
    std::fprintf(stderr, "ringfence: %s: seccomp: %s\n", l.unit.name.full.c_str(),
                 code.error().message().c_str());
    return 1;
  }
  std::printf("# The seccomp filter of %s, as `ringfence run` loads it\n%s",
              l.unit.name.full.c_str(), code->c_str());
  return 0;
}

} // namespace rf::cli
