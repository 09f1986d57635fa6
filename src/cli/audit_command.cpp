// `ringfence audit`: the audit log's records, selected, as a table, as stored (--json) or
// summed (--summary); with -f, followed as they are written.
#include "cli/cli.hpp"

#include "audit/audit_log.hpp"
#include "audit/log_reader.hpp"
#include "audit/review.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <getopt.h>
#include <poll.h>
#include <sys/signalfd.h>

namespace rf::cli {
namespace {

constexpr int kFollowIntervalMs = 200;

struct AuditRequest {
  std::string log_path;
  audit::Filter filter;
  bool json = false;
  bool follow = false;
  bool summary = false;
};

enum AuditOptionId { kAuditLogOption = 256, kUnitOption, kSince, kUntil, kKind, kJsonOption,
                     kSummary };

const option kAuditOptions[] = {
    {"audit-log", required_argument, nullptr, kAuditLogOption},
    {"unit", required_argument, nullptr, kUnitOption},
    {"since", required_argument, nullptr, kSince},
    {"until", required_argument, nullptr, kUntil},
    {"kind", required_argument, nullptr, kKind},
    {"json", no_argument, nullptr, kJsonOption},
    {"follow", no_argument, nullptr, 'f'},
    {"summary", no_argument, nullptr, kSummary},
    {nullptr, 0, nullptr, 0},
};

Result<audit::Micros> time_option(const char *option_name, const char *text, audit::Micros now) {
  auto when = audit::parse_time_argument(text, now);
  if (!when)
    return when.error().wrap(option_name);
  return when;
}

std::string default_log_path() {
  const char *from_environment = std::getenv("RINGFENCE_AUDIT_LOG");
  return from_environment && *from_environment ? from_environment : audit::kDefaultAuditLog;
}

Status apply_option(int option_id, const char *argument, audit::Micros now,
                    AuditRequest &request) {
  switch (option_id) {
  case kAuditLogOption: request.log_path = argument; return Ok{};
  case kUnitOption: request.filter.unit = audit::unit_filter_name(argument); return Ok{};
  case kKind: return audit::add_kinds(argument, request.filter.kinds);
  case kJsonOption: request.json = true; return Ok{};
  case 'f': request.follow = true; return Ok{};
  case kSummary: request.summary = true; return Ok{};
  case kSince:
  case kUntil: {
    auto when = time_option(option_id == kSince ? "--since" : "--until", argument, now);
    if (!when)
      return when.error();
    (option_id == kSince ? request.filter.since : request.filter.until) = *when;
    return Ok{};
  }
  default: return Error::msg("unknown or incomplete option");
  }
}

// argv[0] is "audit". Every error here is a usage error.
Result<AuditRequest> parse_audit_options(int argc, char **argv, audit::Micros now) {
  AuditRequest request;
  optind = 1;
  opterr = 0;
  int option_id;
  while ((option_id = getopt_long(argc, argv, "f", kAuditOptions, nullptr)) != -1) {
    Status applied = apply_option(option_id, optarg, now, request);
    if (!applied && option_id == '?')
      return Error::msg(std::string("unknown or incomplete option '") + argv[optind - 1] + "'");
    RF_TRY(applied);
  }
  if (optind < argc)
    return Error::msg(std::string("takes no arguments ('") + argv[optind] + "')");
  if (request.follow && request.summary)
    return Error::msg("--follow and --summary cannot be combined");
  if (request.log_path.empty())
    request.log_path = default_log_path();
  return request;
}

// Takes the log's lines: counts the malformed ones, prints or keeps the selected ones.
class Review {
public:
  explicit Review(const AuditRequest &request)
      : request_(request), table_(request.summary ? audit::summary_headings()
                                                  : audit::table_headings()) {}

  void take(std::string_view line);
  // The records read so far, as a fitted table or a summary (--json printed them already).
  void print_collected();
  void report_malformed() const;

private:
  void print_line(const std::string &line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
  }

  const AuditRequest &request_;
  audit::Table table_;
  std::vector<std::vector<std::string>> rows_;
  audit::Summary summary_;
  bool following_ = false; // the collected records were printed: print each as it comes
  std::size_t malformed_ = 0;
};

void Review::take(std::string_view line) {
  if (line.find_first_not_of(" \t\r") == std::string_view::npos)
    return; // an empty line is no record, and not worth a warning
  auto record = audit::parse_record(line);
  if (!record) {
    ++malformed_;
    return;
  }
  if (!request_.filter.matches(*record))
    return;
  if (request_.summary) {
    summary_.add(*record);
  } else if (request_.json) {
    print_line(record->line);
  } else if (following_) {
    print_line(table_.format(audit::table_row(*record)));
  } else {
    rows_.push_back(audit::table_row(*record));
    table_.fit(rows_.back());
  }
}

void Review::print_collected() {
  following_ = true;
  if (request_.summary) {
    std::vector<audit::SummaryLine> lines = summary_.lines();
    for (const audit::SummaryLine &line : lines)
      table_.fit(audit::summary_row(line));
    if (!request_.json)
      print_line(table_.header());
    for (const audit::SummaryLine &line : lines)
      print_line(request_.json ? audit::summary_json(line) : table_.format(audit::summary_row(line)));
    return;
  }
  if (request_.json)
    return;
  print_line(table_.header());
  for (const auto &row : rows_)
    print_line(table_.format(row));
  rows_.clear();
}

void Review::report_malformed() const {
  if (malformed_ > 0)
    std::fprintf(stderr, "ringfence: audit: %zu malformed line%s skipped\n", malformed_,
                 malformed_ == 1 ? "" : "s");
}

int read_error(const Error &error) {
  std::fprintf(stderr, "ringfence: audit: %s\n", error.message().c_str());
  return 1;
}

// SIGINT and SIGTERM, blocked, as a file descriptor that polls readable when one came.
UniqueFd stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  ::sigprocmask(SIG_BLOCK, &signals, nullptr);
  return UniqueFd(::signalfd(-1, &signals, SFD_CLOEXEC));
}

// Prints the records as they are written, until SIGINT or SIGTERM.
int follow_log(audit::LogReader &log, Review &review, const UniqueFd &stop) {
  auto take = [&review](std::string_view line) { review.take(line); };
  for (;;) {
    std::fflush(stdout);
    pollfd signal_poll{stop.get(), POLLIN, 0};
    if (::poll(&signal_poll, 1, kFollowIntervalMs) > 0)
      return 0;
    Status followed = log.follow(take);
    if (!followed)
      return read_error(followed.error());
  }
}

} // namespace

int audit_command(int argc, char **argv) {
  auto request = parse_audit_options(argc, argv, audit::current_time());
  if (!request)
    return usage_error("audit", request.error().message());
  UniqueFd stop = request->follow ? stop_signals() : UniqueFd();
  if (request->follow && !stop)
    return read_error(Error::from_errno("cannot wait for signals"));

  audit::LogReader log(request->log_path);
  auto opened = log.open();
  if (!opened)
    return read_error(opened.error());
  if (!*opened)
    std::fprintf(stderr, "ringfence: audit: no audit log at %s yet\n", log.path().c_str());
  Review review(*request);
  Status read = log.read_lines([&review](std::string_view line) { review.take(line); },
                               !request->follow);
  if (!read)
    return read_error(read.error());
  review.print_collected();
  int status = request->follow ? follow_log(log, review, stop) : 0;
  review.report_malformed();
  if (std::fflush(stdout) != 0 || std::ferror(stdout))
    return read_error(Error::from_errno("cannot write the output"));
  return status;
}

} // namespace rf::cli
