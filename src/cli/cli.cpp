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
  ringfence --help | --version

Runs a service inside a kernel-enforced sandbox described by a systemd-style unit file.

Commands:
  verify      check units; print every problem as FILE:LINE: error: MESSAGE
  show        print the effective policy, each line with the file:line it came from
  syscalls    list the system call groups, or the members of the ones named

Options:
  -p, --property KEY=VALUE  set a [Service] directive after the unit and its drop-ins
      --unit-name NAME      name of an ad-hoc run (default: COMMAND's basename.service)
      --json                show: print one JSON object
      --audit-log FILE      the JSON-lines audit log (env RINGFENCE_AUDIT_LOG)
  -h, --help                show this help
      --version             show the version

Environment: RINGFENCE_UNIT_PATH, RINGFENCE_POLICY_PATH, RINGFENCE_AUDIT_LOG.
See ringfence(8) and ringfence.unit(5).
)";

enum OptionId { kUnitName = 256, kJson, kAuditLog, kVersion };

int usage_error(const char *command, const std::string &message) {
  std::fprintf(stderr, "ringfence: %s: %s\nTry 'ringfence --help'.\n", command, message.c_str());
  return 2;
}

// Parses the options shared by verify/show/run; leaves positional words in `words`.
bool parse_unit_options(int argc, char **argv, UnitOptions &options,
                        std::vector<std::string> &words, std::string &error) {
  static const option kOptions[] = {
      {"property", required_argument, nullptr, 'p'},
      {"unit-name", required_argument, nullptr, kUnitName},
      {"json", no_argument, nullptr, kJson},
      {"audit-log", required_argument, nullptr, kAuditLog},
      {nullptr, 0, nullptr, 0},
  };
  optind = 1;
  opterr = 0;
  int c;
  // '+': stop at the first word, so a command's own options after "--" stay its own.
  while ((c = getopt_long(argc, argv, "+p:", kOptions, nullptr)) != -1) {
    switch (c) {
    case 'p': options.overrides.emplace_back(optarg); break;
    case kUnitName: options.unit_name = optarg; break;
    case kJson: options.json = true; break;
    case kAuditLog: options.audit_log = optarg; break;
    default:
      error = std::string("unknown or incomplete option '") + argv[optind - 1] + "'";
      return false;
    }
  }
  for (int i = optind; i < argc; ++i)
    words.emplace_back(argv[i]);
  return true;
}

} // namespace

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
  if (command == "verify" || command == "show") {
    if (!parse_unit_options(argc - 1, argv + 1, options, words, error))
      return usage_error(command.c_str(), error);
    // Options may also follow the unit names (getopt stopped at the first word).
    std::vector<std::string> units;
    for (size_t i = 0; i < words.size(); ++i) {
      if (words[i] == "--json")
        options.json = true;
      else if ((words[i] == "-p" || words[i] == "--property") && i + 1 < words.size())
        options.overrides.push_back(words[++i]);
      else if (words[i].starts_with("--property="))
        options.overrides.push_back(words[i].substr(11));
      else if ((words[i] == "--unit-name" || words[i] == "--audit-log") && i + 1 < words.size())
        (words[i] == "--unit-name" ? options.unit_name : options.audit_log) = words[++i];
      else if (words[i].starts_with("--unit-name="))
        options.unit_name = words[i].substr(12);
      else if (words[i].starts_with("--audit-log="))
        options.audit_log = words[i].substr(12);
      else if (words[i].starts_with("-") && words[i] != "-")
        return usage_error(command.c_str(), "unknown option '" + words[i] + "'");
      else
        units.push_back(words[i]);
    }
    if (units.empty())
      return usage_error(command.c_str(), "needs a UNIT");
    if (command == "verify")
      return verify_command(units, options);
    if (units.size() != 1)
      return usage_error("show", "takes exactly one UNIT");
    return show_command(units[0], options);
  }
  return usage_error(command.c_str(), "unknown command");
}

} // namespace rf::cli
