// Reading the audit log back, for `ringfence audit`: records parsed from their lines, the
// selection (--unit, --since, --until, --kind), the table and the summary. No I/O here.
#pragma once

#include "audit/review_time.hpp"
#include "util/json_reader.hpp"
#include "util/result.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace rf::audit {

// Every event a record can have (the contract's "Audit records").
inline constexpr std::string_view kEventNames[] = {
    "start",          "exit",           "connect-denied", "sendmsg-denied",
    "packet-dropped", "syscall-denied", "syscall-logged", "denied-unattributed"};

// The events that stand for refused attempts (syscall-logged was allowed: not one).
bool is_denial(std::string_view event);

struct Record {
  std::string line; // as stored, without its newline
  json::Value fields;
  Micros time = 0;
  std::string event, unit;

  std::string text(std::string_view key) const;   // a string field, or ""
  std::string number(std::string_view key) const; // a number field as written, or ""
};

// A line of the log as a record. A line that is not a JSON object with a valid "time" and
// string "event" and "unit", or whose "pid" or "count" is not an integer, is an error.
Result<Record> parse_record(std::string_view line);

// The unit as `run` names it: "web" → "web.service".
std::string unit_filter_name(std::string_view name);

// Adds the event names of a --kind argument ("exit", "connect-denied,exit"). An unknown
// name is an error.
Status add_kinds(std::string_view list, std::vector<std::string> &kinds);

struct Filter {
  std::string unit;               // empty: every unit
  std::optional<Micros> since;    // inclusive
  std::optional<Micros> until;    // exclusive
  std::vector<std::string> kinds; // empty: every event

  bool matches(const Record &record) const;
};

// The DESTINATION column: "10.9.8.7:443/tcp", "[::1]:443/tcp", "from 10.0.0.1:53/udp",
// "mount (EPERM)", "mount (kill)", the command of a start, "status 1 (stage uid)" for an exit.
std::string destination(const Record &record);

// TIME, UNIT, PID, COMM, EVENT, DESTINATION, COUNT; control characters escaped.
std::vector<std::string> table_headings();
std::vector<std::string> table_row(const Record &record);

// Columns fitted to their content, two spaces apart; the last column is not padded.
class Table {
public:
  explicit Table(std::vector<std::string> headings);
  void fit(const std::vector<std::string> &cells); // widens the columns to hold `cells`
  std::string format(const std::vector<std::string> &cells) const; // one line, no newline
  std::string header() const { return format(headings_); }

private:
  std::vector<std::string> headings_;
  std::vector<std::size_t> widths_;
};

struct SummaryLine {
  std::string unit, event, destination;
  unsigned long long count = 0;
};

// The denial records' counts summed per unit, event and destination.
class Summary {
public:
  void add(const Record &record); // ignores records that are not denials
  // By unit, then count (highest first), then event and destination.
  std::vector<SummaryLine> lines() const;

private:
  std::map<std::tuple<std::string, std::string, std::string>, unsigned long long> counts_;
};

std::vector<std::string> summary_headings();
std::vector<std::string> summary_row(const SummaryLine &line);
std::string summary_json(const SummaryLine &line);

} // namespace rf::audit
