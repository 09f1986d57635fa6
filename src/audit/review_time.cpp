#include "audit/review_time.hpp"

#include "audit/audit_log.hpp"

#include <ctime>
#include <limits>
#include <optional>

namespace rf::audit {
namespace {

// Civil date → days since 1970-01-01 (Howard Hinnant's algorithm).
std::int64_t days_from_civil(int year, unsigned month, unsigned day) {
  year -= month <= 2;
  int era = (year >= 0 ? year : year - 399) / 400;
  auto year_of_era = static_cast<unsigned>(year - era * 400);
  unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return static_cast<std::int64_t>(era) * 146097 + day_of_era - 719468;
}

unsigned days_in_month(int year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// Reads a timestamp left to right.
class Scanner {
public:
  explicit Scanner(std::string_view text) : text_(text) {}
  bool done() const { return pos_ == text_.size(); }
  bool literal(char c) {
    if (done() || text_[pos_] != c)
      return false;
    ++pos_;
    return true;
  }
  // Exactly `count` digits.
  bool digits(std::size_t count, int &out) {
    if (text_.size() - pos_ < count)
      return false;
    out = 0;
    for (std::size_t i = 0; i < count; ++i) {
      char c = text_[pos_ + i];
      if (c < '0' || c > '9')
        return false;
      out = out * 10 + (c - '0');
    }
    pos_ += count;
    return true;
  }
  // 1 to 9 digits after a '.', as microseconds.
  bool fraction(Micros &micros) {
    micros = 0;
    std::size_t count = 0;
    while (!done() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (count < 6)
        micros = micros * 10 + (text_[pos_] - '0');
      ++count;
      ++pos_;
    }
    for (std::size_t i = count; i < 6; ++i)
      micros *= 10;
    return count >= 1 && count <= 9;
  }

private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

struct Fields {
  int year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  Micros fraction = 0;
  int zone_minutes = 0; // east of UTC
};

bool scan_clock(Scanner &in, Fields &f) {
  if (!(in.digits(2, f.hour) && in.literal(':') && in.digits(2, f.minute)))
    return false;
  if (in.literal(':') && !in.digits(2, f.second))
    return false;
  return !in.literal('.') || in.fraction(f.fraction);
}

bool scan_zone(Scanner &in, Fields &f) {
  if (in.done() || in.literal('Z') || in.literal('z'))
    return true;
  bool east = in.literal('+');
  if (!east && !in.literal('-'))
    return false;
  int hours = 0, minutes = 0;
  if (!(in.digits(2, hours) && in.literal(':') && in.digits(2, minutes)) || hours > 23 ||
      minutes > 59)
    return false;
  f.zone_minutes = (east ? 1 : -1) * (hours * 60 + minutes);
  return true;
}

std::optional<Fields> scan_timestamp(std::string_view text) {
  Fields f;
  Scanner in(text);
  int month = 0, day = 0;
  if (!(in.digits(4, f.year) && in.literal('-') && in.digits(2, month) && in.literal('-') &&
        in.digits(2, day)))
    return std::nullopt;
  f.month = month;
  f.day = day;
  if ((in.literal(' ') || in.literal('T') || in.literal('t')) && !scan_clock(in, f))
    return std::nullopt;
  if (!scan_zone(in, f) || !in.done())
    return std::nullopt;
  return f;
}

bool in_range(const Fields &f) {
  if (f.month < 1 || f.month > 12)
    return false;
  auto month = static_cast<unsigned>(f.month);
  return f.day >= 1 && static_cast<unsigned>(f.day) <= days_in_month(f.year, month) &&
         f.hour <= 23 && f.minute <= 59 && f.second <= 59;
}

} // namespace

Result<Micros> parse_timestamp(std::string_view text) {
  std::optional<Fields> f = scan_timestamp(text);
  if (!f || !in_range(*f))
    return Error::msg("invalid time '" + std::string(text) + "'");
  std::int64_t days =
      days_from_civil(f->year, static_cast<unsigned>(f->month), static_cast<unsigned>(f->day));
  std::int64_t seconds = days * 86400 + f->hour * 3600 + f->minute * 60 + f->second -
                         std::int64_t{f->zone_minutes} * 60;
  return seconds * kMicrosPerSecond + f->fraction;
}

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

std::optional<Micros> unit_length(std::string_view unit) {
  struct Unit {
    std::string_view names[4];
    Micros length;
  };
  static constexpr Unit kUnits[] = {
      {{"s", "sec", "second", "seconds"}, kMicrosPerSecond},
      {{"secs", "", "", ""}, kMicrosPerSecond},
      {{"min", "mins", "minute", "minutes"}, 60 * kMicrosPerSecond},
      {{"h", "hour", "hours", "hr"}, 3600 * kMicrosPerSecond},
      {{"d", "day", "days", ""}, kMicrosPerDay},
      {{"w", "week", "weeks", ""}, 7 * kMicrosPerDay},
  };
  for (const Unit &u : kUnits)
    for (std::string_view name : u.names)
      if (!name.empty() && name == unit)
        return u.length;
  return std::nullopt;
}

// "10 min ago", "10min ago": the distance back from now, or nullopt.
std::optional<Micros> scan_relative(std::string_view text) {
  constexpr std::string_view kAgo = "ago";
  if (!text.ends_with(kAgo))
    return std::nullopt;
  text = trim(text.substr(0, text.size() - kAgo.size()));
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
    ++digits;
  if (digits == 0 || digits > 12) // keeps `count` below overflow
    return std::nullopt;
  std::optional<Micros> unit = unit_length(trim(text.substr(digits)));
  if (!unit)
    return std::nullopt;
  Micros count = 0;
  for (char c : text.substr(0, digits))
    count = count * 10 + (c - '0');
  if (count > std::numeric_limits<Micros>::max() / *unit)
    return std::nullopt;
  return count * *unit;
}

Micros start_of_day(Micros when) {
  Micros days = when / kMicrosPerDay - (when % kMicrosPerDay < 0 ? 1 : 0);
  return days * kMicrosPerDay;
}

} // namespace

Result<Micros> parse_time_argument(std::string_view text, Micros now) {
  std::string_view word = trim(text);
  if (word == "now")
    return now;
  if (word == "today")
    return start_of_day(now);
  if (word == "yesterday")
    return start_of_day(now) - kMicrosPerDay;
  if (std::optional<Micros> back = scan_relative(word))
    return now - *back;
  auto absolute = parse_timestamp(word);
  if (!absolute)
    return Error::msg("invalid time '" + std::string(text) +
                      "': expected \"YYYY-MM-DD HH:MM[:SS[.ffffff]]\" (UTC), "
                      "\"YYYY-MM-DDTHH:MM:SSZ\", today, yesterday, now, or \"N min ago\"");
  return absolute;
}

std::string format_row_time(Micros when) {
  Micros seconds = when / kMicrosPerSecond, micros = when % kMicrosPerSecond;
  if (micros < 0) {
    micros += kMicrosPerSecond;
    --seconds;
  }
  std::string text = format_time(timespec{seconds, micros * 1000});
  std::size_t t = text.find('T'), dot = text.find('.');
  if (t != std::string::npos)
    text[t] = ' ';
  return dot == std::string::npos ? text : text.substr(0, dot + 3);
}

Micros current_time() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return Micros{now.tv_sec} * kMicrosPerSecond + now.tv_nsec / 1000;
}

} // namespace rf::audit
