// `run` and `gc`: the command line of the launcher. Parsing ends here; the launcher gets a
// validated policy.
#include "cli/cli.hpp"

#include "audit/audit_log.hpp"
#include "launch/launcher.hpp"
#include "unit/directives.hpp"

#include <cstdio>
#include <cstdlib>

namespace rf::cli {
namespace {

std::string from_environment(const char *name) {
  const char *value = std::getenv(name);
  return value ? value : "";
}

std::string adhoc_unit_name(const std::string &command) {
  std::size_t slash = command.rfind('/');
  return (slash == std::string::npos ? command : command.substr(slash + 1)) + ".service";
}

void print_diagnostics(const Diagnostics &diags) {
  for (const auto &d : diags.items())
    std::fprintf(stderr, "%s\n", d.str().c_str());
}

// One line, as every failure before exec: the first error, and how many more `verify`
// would list.
void report_unit_errors(const std::string &label, const Diagnostics &diags) {
  std::vector<const Diagnostic *> errors;
  for (const auto &d : diags.items())
    if (d.severity == Diagnostic::Severity::error)
      errors.push_back(&d);
  if (errors.empty())
    return;
  const Diagnostic &first = *errors.front();
  std::string where = first.origin.line > 0 ? first.origin.str() : first.origin.file;
  std::string more = errors.size() > 1 ? " (and " + std::to_string(errors.size() - 1) +
                                             " more: see ringfence verify)"
                                       : "";
  std::fprintf(stderr, "ringfence: %s: %s: %s%s; nothing was started\n", label.c_str(),
               where.c_str(), first.message.c_str(), more.c_str());
}

} // namespace

int run_command(const RunRequest &request, const UnitOptions &options) {
  bool adhoc = request.unit.empty();
  if (adhoc && request.args.empty()) {
    std::fprintf(stderr, "ringfence: run: needs a UNIT, or a COMMAND after '--'\n"
                         "Try 'ringfence --help'.\n");
    return 2;
  }
  std::string name = adhoc ? (options.unit_name.empty() ? adhoc_unit_name(request.args[0])
                                                        : options.unit_name)
                           : options.unit_name;
  Diagnostics diags;
  unit::LoadRequest load{request.unit, name, options.overrides};
  unit::LoadedUnit loaded = unit::load_unit(load, unit::SearchPaths::from_environment(), diags);
  unit::BuiltPolicy built;
  if (!loaded.name.full.empty() && !loaded.missing)
    built = unit::build_policy(loaded, adhoc ? request.args : std::vector<std::string>{}, diags);
  std::string label = loaded.name.full.empty() ? (adhoc ? name : request.unit) : loaded.name.full;
  if (diags.has_errors()) {
    report_unit_errors(label, diags);
    return 125;
  }
  print_diagnostics(diags); // warnings
  Policy &policy = built.policy;
  if (!adhoc && !request.args.empty()) {
    if (policy.exec_start.size() != 1) {
      std::fprintf(stderr, "ringfence: %s: extra arguments need a unit with one ExecStart=\n",
                   label.c_str());
      return 125;
    }
    // The caller's words are literal: "$" is doubled so that $VAR expansion restores it.
    ExecCommand &command = policy.exec_start.front();
    for (std::string arg : request.args) {
      if (command.expand_environment)
        for (std::size_t at = 0; (at = arg.find('$', at)) != std::string::npos; at += 2)
          arg.insert(at, 1, '$');
      command.argv.push_back(std::move(arg));
    }
  }

  launch::LaunchOptions launch_options;
  launch_options.cgroup_parent = !options.cgroup_parent.empty()
                                     ? options.cgroup_parent
                                     : from_environment("RINGFENCE_CGROUP_PARENT");
  launch_options.audit_log = !options.audit_log.empty() ? options.audit_log
                             : std::getenv("RINGFENCE_AUDIT_LOG")
                                 ? from_environment("RINGFENCE_AUDIT_LOG")
                                 : audit::kDefaultAuditLog;
  if (!loaded.fragment.empty())
    launch_options.protected_paths.push_back(loaded.fragment);
  for (const auto &paths : {loaded.dropins, loaded.policies})
    launch_options.protected_paths.insert(launch_options.protected_paths.end(), paths.begin(),
                                          paths.end());
  launch_options.stop_at = from_environment("RINGFENCE_STOP_AT");
  launch_options.verbose = options.verbose;

  launch::RunOutcome outcome = launch::launch(policy, launch_options);
  if (!outcome.error.empty())
    std::fprintf(stderr, "ringfence: %s: %s\n", label.c_str(), outcome.error.c_str());
  return outcome.status;
}

int gc_command(const UnitOptions &options) {
  std::string parent = !options.cgroup_parent.empty() ? options.cgroup_parent
                                                      : from_environment("RINGFENCE_CGROUP_PARENT");
  Result<std::vector<std::string>> reaped = launch::collect_garbage(parent);
  if (!reaped) {
    std::fprintf(stderr, "ringfence: gc: %s\n", reaped.error().message().c_str());
    return 1;
  }
  for (const std::string &name : *reaped)
    std::printf("removed %s\n", name.c_str());
  return 0;
}

} // namespace rf::cli
