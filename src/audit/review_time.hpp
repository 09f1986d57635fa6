// Times for `ringfence audit`: the records' RFC 3339 stamps, the --since/--until
// arguments, and the table's TIME column. Everything is UTC, as the log is.
#pragma once

#include "util/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace rf::audit {

// Microseconds since 1970-01-01 00:00:00 UTC.
using Micros = std::int64_t;

inline constexpr Micros kMicrosPerSecond = 1'000'000;
inline constexpr Micros kMicrosPerDay = 86'400 * kMicrosPerSecond;

// "YYYY-MM-DD", optionally followed by " HH:MM[:SS[.fraction]]" or "THH:MM[:SS[.fraction]]"
// and a zone ("Z", "+HH:MM", "-HH:MM"; none means UTC). A record's "time" field is one:
// "2026-11-29T10:02:11.520113Z". Digits beyond microseconds are dropped.
Result<Micros> parse_timestamp(std::string_view text);

// A --since/--until argument: a timestamp as above, "now", "today", "yesterday" (midnight
// UTC), or "N UNIT ago" with UNIT s, sec, second(s), min, minute(s), h, hour(s), d, day(s),
// w, week(s) ("10 min ago", "10min ago"). `now` is the current time.
Result<Micros> parse_time_argument(std::string_view text, Micros now);

// "2026-11-29 10:02:11.52": the table's TIME column, truncated to hundredths.
std::string format_row_time(Micros when);

// The real-time clock, now.
Micros current_time();

} // namespace rf::audit
