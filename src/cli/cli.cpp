#include "cli/cli.hpp"

#include "config.h"

#include <cstdio>
#include <cstring>
#include <getopt.h>

namespace rf::cli {
namespace {

constexpr const char *kUsage = R"(Usage:
  ringfence run [OPTIONS] UNIT [-- ARGS...]
  ringfence run [OPTIONS] -p KEY=VALUE [-p ...] [--unit-name NAME] -- COMMAND [ARGS...]
  ringfence verify [OPTIONS] UNIT...
  ringfence show [OPTIONS] UNIT [--json]
  ringfence syscalls [@GROUP | NAME]...
  ringfence inspect [OPTIONS] UNIT --seccomp
  ringfence audit [--audit-log FILE] [--unit NAME] [--since TIME] [--until TIME]
                  [--kind KIND] [--json] [-f|--follow] [--summary]
  ringfence gc [--cgroup-parent CGROUP]
  ringfence --help | --version

Runs a service inside a kernel-enforced sandbox described by a systemd-style unit file.

Commands:
  run         run a service in its sandbox; exits with the service's status
              (128+N if killed by signal N; 125 nothing started; 126/127 exec failed)
  gc          kill and remove cgroups left by runs whose supervisor was killed
  verify      check units; print every problem as FILE:LINE: error: MESSAGE
  show        print the effective policy, each line with the file:line it came from
  syscalls    list the system call groups, or the members of the ones named
  inspect     print the seccomp filter run would load, in libseccomp's pseudo code
  audit       print the audit log's records as a table (times in UTC)

Options:
  -p, --property KEY=VALUE  set a [Service] directive after the unit and its drop-ins
      --unit-name NAME      name of an ad-hoc run (default: COMMAND's basename.service)
      --json                show: print one JSON object; audit: the records as stored
      --audit-log FILE      the JSON-lines audit log (env RINGFENCE_AUDIT_LOG)
      --unit NAME           audit: only the records of unit NAME (web: web.service)
      --since TIME, --until TIME
                            audit: records from TIME on, before TIME: "2026-11-29
                            10:00[:00]" (UTC), today, yesterday, now, "10 min ago"
      --kind KIND[,KIND]    audit: only these events (start, exit, connect-denied, ...)
  -f, --follow              audit: print records as they are written, until Ctrl-C
      --summary             audit: the denials' counts per unit, event and destination
      --cgroup-parent CGROUP  parent of the runs' cgroups, a cgroup path such as
                            /ringfence (env RINGFENCE_CGROUP_PARENT)
  -v, --verbose             run: say what is set up
  -h, --help                show this help
      --version             show the version

Environment: RINGFENCE_UNIT_PATH, RINGFENCE_POLICY_PATH, RINGFENCE_AUDIT_LOG,
RINGFENCE_CGROUP_PARENT.
See ringfence(8) and ringfence.unit(5).
)";

enum OptionId { kUnitName = 256, kJson, kAuditLog, kCgroupParent, kSeccomp, kVersion };

const option kOptions[] = {
    {"property", required_argument, nullptr, 'p'},
    {"unit-name", required_argument, nullptr, kUnitName},
    {"json", no_argument, nullptr, kJson},
    {"audit-log", required_argument, nullptr, kAuditLog},
    {"cgroup-parent", required_argument, nullptr, kCgroupParent},
    {"verbose", no_argument, nullptr, 'v'},
    {"seccomp", no_argument, nullptr, kSeccomp},
    {nullptr, 0, nullptr, 0},
};

// Parses the options shared by the unit commands, wherever they stand before a "--"
// (getopt's '+' mode stops at the first word, so the rest is parsed again after it).
// Words are left in `words`; with `dashdash`, the words after "--" go to `after`.
bool parse_unit_options(int argc, char **argv, UnitOptions &options,
                        std::vector<std::string> &words, std::vector<std::string> *after,
                        std::string &error) {
  int start = 1;
  for (;;) {
    optind = 1;
    opterr = 0;
    int c;
    // getopt wants argv[0]; `start - 1` is the word before the first unparsed one.
    int sub_argc = argc - (start - 1);
    char **sub_argv = argv + (start - 1);
    while ((c = getopt_long(sub_argc, sub_argv, "+p:v", kOptions, nullptr)) != -1) {
      switch (c) {
      case 'p': options.overrides.emplace_back(optarg); break;
      case 'v': options.verbose = true; break;
      case kUnitName: options.unit_name = optarg; break;
      case kJson: options.json = true; break;
      case kAuditLog: options.audit_log = optarg; break;
      case kCgroupParent: options.cgroup_parent = optarg; break;
      case kSeccomp: options.seccomp = true; break;
      default:
        error = std::string("unknown or incomplete option '") + sub_argv[optind - 1] + "'";
        return false;
      }
    }
    int next = start - 1 + optind;
    if (std::string(sub_argv[optind - 1]) == "--" && optind > 1) {
      if (!after) {
        error = "unexpected '--'";
        return false;
      }
      for (int i = next; i < argc; ++i)
        after->emplace_back(argv[i]);
      return true;
    }
    if (next >= argc)
      return true;
    words.emplace_back(argv[next]);
    start = next + 1;
    if (start >= argc)
      return true;
  }
}

} // namespace

int usage_error(const char *command, const std::string &message) {
  std::fprintf(stderr, "ringfence: %s: %s\nTry 'ringfence --help'.\n", command, message.c_str());
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string command = argv[1];
  if (command == "-h" || command == "--help" || command == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (command == "--version") {
    std::printf("ringfence %s\n", RINGFENCE_VERSION);
    return 0;
  }

  UnitOptions options;
  std::vector<std::string> words;
  std::string error;
  if (command == "syscalls") {
    for (int i = 2; i < argc; ++i)
      words.emplace_back(argv[i]);
    return syscalls_command(words);
  }
  if (command == "audit")
    return audit_command(argc - 1, argv + 1);
  if (command == "run") {
    RunRequest request;
    if (!parse_unit_options(argc - 1, argv + 1, options, words, &request.args, error))
      return usage_error("run", error);
    if (words.size() > 1)
      return usage_error("run", "takes one UNIT (a command goes after '--')");
    if (!words.empty())
      request.unit = words[0];
    return run_command(request, options);
  }
  if (command == "gc") {
    if (!parse_unit_options(argc - 1, argv + 1, options, words, nullptr, error))
      return usage_error("gc", error);
    if (!words.empty())
      return usage_error("gc", "takes no arguments");
    return gc_command(options);
  }
  if (command == "inspect") {
    if (!parse_unit_options(argc - 1, argv + 1, options, words, nullptr, error))
      return usage_error("inspect", error);
    if (words.size() != 1)
      return usage_error("inspect", "takes exactly one UNIT");
    if (!options.seccomp)
      return usage_error("inspect", "says what to inspect: --seccomp");
    return inspect_command(words[0], options);
  }
  if (command == "verify" || command == "show") {
    if (!parse_unit_options(argc - 1, argv + 1, options, words, nullptr, error))
      return usage_error(command.c_str(), error);
    if (words.empty())
      return usage_error(command.c_str(), "needs a UNIT");
    if (command == "verify")
      return verify_command(words, options);
    if (words.size() != 1)
      return usage_error("show", "takes exactly one UNIT");
    return show_command(words[0], options);
  }
  return usage_error(command.c_str(), "unknown command");
}

} // namespace rf::cli
