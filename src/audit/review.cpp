#include "audit/review.hpp"

#include "util/json.hpp"

#include <algorithm>
#include <cstdio>

namespace rf::audit {
namespace {

constexpr std::size_t kCommandWidth = 60;
constexpr std::string_view kEllipsis = "\u2026";

bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Characters as a terminal shows them: UTF-8 continuation bytes do not count.
std::size_t display_width(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !is_continuation_byte(c); }));
}

// Control characters (C0, DEL and C1, which a service can put in its comm or command line)
// as \xNN, so that a record cannot move the cursor or break the table's lines.
std::string printable(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto byte = static_cast<unsigned char>(text[i]);
    bool c1 = byte == 0xC2 && i + 1 < text.size() &&
              static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
              static_cast<unsigned char>(text[i + 1]) <= 0x9F;
    if (byte >= 0x20 && byte != 0x7F && !c1) {
      out += text[i];
      continue;
    }
    if (c1)
      byte = static_cast<unsigned char>(text[++i]);
    char escaped[8];
    std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
    out += escaped;
  }
  return out;
}

// At most `width` characters, the last one "…" when something was cut.
std::string truncated(const std::string &text, std::size_t width) {
  if (display_width(text) <= width)
    return text;
  std::size_t kept = 0, end = 0;
  while (end < text.size()) {
    if (!is_continuation_byte(text[end]) && kept++ == width - 1)
      break;
    ++end;
  }
  return text.substr(0, end) + std::string(kEllipsis);
}

bool valid_optional_integer(const json::Value &fields, std::string_view key, bool is_unsigned) {
  const json::Value *value = fields.find(key);
  if (!value)
    return true;
  return is_unsigned ? value->as_unsigned().has_value() : value->as_integer().has_value();
}

} // namespace

bool is_denial(std::string_view event) {
  return event == "connect-denied" || event == "sendmsg-denied" || event == "packet-dropped" ||
         event == "syscall-denied" || event == "denied-unattributed";
}

std::string Record::text(std::string_view key) const {
  const json::Value *value = fields.find(key);
  return value && value->is_string() ? value->text : std::string();
}

std::string Record::number(std::string_view key) const {
  const json::Value *value = fields.find(key);
  return value && value->is_number() ? value->text : std::string();
}

Result<Record> parse_record(std::string_view line) {
  auto fields = json::parse(line);
  if (!fields)
    return fields.error();
  if (!fields->is_object())
    return Error::msg("not a JSON object");
  for (std::string_view key : {"time", "event", "unit"}) {
    const json::Value *value = fields->find(key);
    if (!value || !value->is_string())
      return Error::msg("no string \"" + std::string(key) + "\"");
  }
  if (!valid_optional_integer(*fields, "pid", false) ||
      !valid_optional_integer(*fields, "count", true))
    return Error::msg("\"pid\" or \"count\" is not an integer");
  auto time = parse_timestamp(fields->find("time")->text);
  if (!time)
    return time.error();
  Record record;
  record.line = std::string(line);
  record.time = *time;
  record.event = fields->find("event")->text;
  record.unit = fields->find("unit")->text;
  record.fields = std::move(*fields);
  return record;
}

std::string unit_filter_name(std::string_view name) {
  std::string full(name);
  return full.ends_with(".service") ? full : full + ".service";
}

Status add_kinds(std::string_view list, std::vector<std::string> &kinds) {
  std::size_t start = 0;
  for (;;) {
    std::size_t comma = list.find(',', start);
    std::string_view name = list.substr(start, comma == std::string_view::npos ? comma : comma - start);
    if (std::find(std::begin(kEventNames), std::end(kEventNames), name) == std::end(kEventNames)) {
      std::string known;
      for (std::string_view event : kEventNames)
        known += (known.empty() ? "" : ", ") + std::string(event);
      return Error::msg("unknown kind '" + std::string(name) + "' (one of: " + known + ")");
    }
    kinds.emplace_back(name);
    if (comma == std::string_view::npos)
      return Ok{};
    start = comma + 1;
  }
}

bool Filter::matches(const Record &record) const {
  if (!unit.empty() && record.unit != unit)
    return false;
  if ((since && record.time < *since) || (until && record.time >= *until))
    return false;
  return kinds.empty() || std::find(kinds.begin(), kinds.end(), record.event) != kinds.end();
}

namespace {

// "10.9.8.7:443", "[::1]:443", or the address alone when there is no port.
std::string address_and_port(const std::string &address, const std::string &port) {
  if (port.empty())
    return address;
  bool ipv6 = address.find(':') != std::string::npos;
  return (ipv6 ? "[" + address + "]" : address) + ":" + port;
}

std::string with_protocol(std::string text, const Record &record) {
  std::string protocol = record.text("protocol");
  return protocol.empty() ? text : text + "/" + protocol;
}

std::string packet_destination(const Record &record) {
  if (record.text("direction") == "ingress")
    return with_protocol("from " + address_and_port(record.text("saddr"), record.number("sport")),
                         record);
  return with_protocol(address_and_port(record.text("daddr"), record.number("dport")), record);
}

std::string syscall_destination(const Record &record) {
  std::string name = record.text("syscall");
  if (name.empty())
    name = "#" + record.number("nr");
  if (record.event == "syscall-logged")
    return name;
  if (record.text("action") == "kill")
    return name + " (kill)";
  std::string error = record.text("errno");
  return error.empty() ? name : name + " (" + error + ")";
}

std::string command_line(const Record &record) {
  const json::Value *command = record.fields.find("command");
  std::string line;
  if (!command || !command->is_array())
    return line;
  for (const json::Value &word : command->items)
    if (word.is_string())
      line += (line.empty() ? "" : " ") + word.text;
  return line;
}

std::string exit_destination(const Record &record) {
  std::string stage = record.text("stage");
  std::string text = "status " + record.number("status");
  return stage.empty() || stage == "exec" ? text : text + " (stage " + stage + ")";
}

} // namespace

std::string destination(const Record &record) {
  const std::string &event = record.event;
  if (event == "connect-denied" || event == "sendmsg-denied")
    return with_protocol(address_and_port(record.text("daddr"), record.number("dport")), record);
  if (event == "packet-dropped")
    return packet_destination(record);
  if (event == "syscall-denied" || event == "syscall-logged")
    return syscall_destination(record);
  if (event == "start")
    return command_line(record);
  if (event == "exit")
    return exit_destination(record);
  return ""; // denied-unattributed, and events of a later version
}

std::vector<std::string> table_headings() {
  return {"TIME", "UNIT", "PID", "COMM", "EVENT", "DESTINATION", "COUNT"};
}

std::vector<std::string> table_row(const Record &record) {
  bool run_event = record.event == "start" || record.event == "exit";
  std::string where = printable(destination(record));
  if (record.event == "start")
    where = truncated(where, kCommandWidth);
  return {format_row_time(record.time), printable(record.unit), record.number("pid"),
          printable(record.text("comm")), printable(record.event), where,
          run_event ? std::string() : record.number("count")};
}

Table::Table(std::vector<std::string> headings) : headings_(std::move(headings)) {
  widths_.assign(headings_.size(), 0);
  fit(headings_);
}

void Table::fit(const std::vector<std::string> &cells) {
  for (std::size_t i = 0; i < cells.size() && i < widths_.size(); ++i)
    widths_[i] = std::max(widths_[i], display_width(cells[i]));
}

std::string Table::format(const std::vector<std::string> &cells) const {
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    line += cells[i];
    if (i + 1 < cells.size() && i < widths_.size())
      line += std::string(widths_[i] - std::min(widths_[i], display_width(cells[i])) + 2, ' ');
  }
  while (!line.empty() && line.back() == ' ') // an empty last cell
    line.pop_back();
  return line;
}

void Summary::add(const Record &record) {
  if (!is_denial(record.event))
    return;
  const json::Value *count = record.fields.find("count");
  // parse_record checked that a count is an integer; a record without one is one attempt.
  unsigned long long attempts = count ? *count->as_unsigned() : 1;
  unsigned long long &sum = counts_[{record.unit, record.event, destination(record)}];
  sum = attempts > ~0ULL - sum ? ~0ULL : sum + attempts; // saturates, for a corrupt log
}

std::vector<SummaryLine> Summary::lines() const {
  std::vector<SummaryLine> lines;
  for (const auto &[key, count] : counts_)
    lines.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), count});
  std::stable_sort(lines.begin(), lines.end(), [](const SummaryLine &a, const SummaryLine &b) {
    if (a.unit != b.unit)
      return a.unit < b.unit;
    return a.count > b.count; // ties stay in the map's order: event, then destination
  });
  return lines;
}

std::vector<std::string> summary_headings() { return {"UNIT", "EVENT", "DESTINATION", "COUNT"}; }

std::vector<std::string> summary_row(const SummaryLine &line) {
  return {printable(line.unit), printable(line.event), printable(line.destination),
          std::to_string(line.count)};
}

std::string summary_json(const SummaryLine &line) {
  json::Writer w;
  w.begin_object();
  w.key("unit").value(line.unit);
  w.key("event").value(line.event);
  w.key("destination").value(line.destination);
  w.key("count").value(line.count);
  return w.end_object().str();
}

} // namespace rf::audit
