// Times for `ringfence audit`: record stamps, --since/--until arguments, the TIME column.
#include "audit/review_time.hpp"

#include <gtest/gtest.h>

#include <string>

using rf::audit::format_row_time;
using rf::audit::kMicrosPerDay;
using rf::audit::kMicrosPerSecond;
using rf::audit::Micros;
using rf::audit::parse_time_argument;
using rf::audit::parse_timestamp;

namespace {

// 2026-11-29T10:02:11.520113Z, computed independently: date -u -d ... +%s
constexpr Micros kExample = 1795946531LL * kMicrosPerSecond + 520113;
constexpr Micros kMidnight = 1795910400LL * kMicrosPerSecond; // 2026-11-29T00:00:00Z

Micros timestamp(std::string_view text) {
  auto r = parse_timestamp(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message());
  return r.ok() ? *r : -1;
}

Micros argument(std::string_view text, Micros now = kExample) {
  auto r = parse_time_argument(text, now);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message());
  return r.ok() ? *r : -1;
}

} // namespace

TEST(ReviewTime, RecordStamp) {
  EXPECT_EQ(timestamp("2026-11-29T10:02:11.520113Z"), kExample);
  EXPECT_EQ(timestamp("1970-01-01T00:00:00.000000Z"), 0);
  EXPECT_EQ(timestamp("2024-02-29T00:00:00Z"), 1709164800LL * kMicrosPerSecond);
}

TEST(ReviewTime, FractionsAreMicroseconds) {
  EXPECT_EQ(timestamp("2026-11-29 10:02:11.52"), kExample - 113);
  EXPECT_EQ(timestamp("2026-11-29 10:02:11.5201139"), kExample); // beyond µs: dropped
  EXPECT_EQ(timestamp("2026-11-29 10:02:11"), kExample - 520113);
}

TEST(ReviewTime, DateAndShortForms) {
  EXPECT_EQ(timestamp("2026-11-29"), kMidnight);
  EXPECT_EQ(timestamp("2026-11-29 10:02"), kMidnight + (10 * 3600 + 2 * 60) * kMicrosPerSecond);
  EXPECT_EQ(timestamp("2026-11-29 10:02:11.520113Z"), kExample);
  EXPECT_EQ(timestamp("2026-11-29T10:02:11.520113"), kExample);
}

TEST(ReviewTime, ZoneOffsets) {
  EXPECT_EQ(timestamp("2026-11-29T12:02:11.520113+02:00"), kExample);
  EXPECT_EQ(timestamp("2026-11-29T09:32:11.520113-00:30"), kExample);
}

TEST(ReviewTime, RejectsMalformedAndOutOfRange) {
  for (const char *text :
       {"", "2026", "2026-11", "2026-1-29", "2026-11-29 10", "2026-11-29 10:2", "2026-11-29 10:02:",
        "2026-11-29 10:02:11.", "2026-11-29 10:02:11.1234567890", "2026-13-01", "2026-00-10",
        "2026-02-29", "2026-04-31", "2026-11-29 24:00", "2026-11-29 10:60", "2026-11-29 10:02:60",
        "2026-11-29T10:02:11+0200", "2026-11-29T10:02:11+24:00", "2026-11-29x", "tomorrow"})
    EXPECT_FALSE(parse_timestamp(text).ok()) << text;
}

TEST(ReviewTime, NamedDays) {
  EXPECT_EQ(argument("now"), kExample);
  EXPECT_EQ(argument("today"), kMidnight);
  EXPECT_EQ(argument("yesterday"), kMidnight - kMicrosPerDay);
  EXPECT_EQ(argument("today", kMidnight), kMidnight);
  EXPECT_EQ(argument("  today "), kMidnight);
}

TEST(ReviewTime, RelativeTimes) {
  constexpr Micros minute = 60 * kMicrosPerSecond;
  EXPECT_EQ(argument("10 min ago"), kExample - 10 * minute);
  EXPECT_EQ(argument("10min ago"), kExample - 10 * minute);
  EXPECT_EQ(argument("10 minutes ago"), kExample - 10 * minute);
  EXPECT_EQ(argument("1 minute ago"), kExample - minute);
  EXPECT_EQ(argument("30 s ago"), kExample - 30 * kMicrosPerSecond);
  EXPECT_EQ(argument("30 sec ago"), kExample - 30 * kMicrosPerSecond);
  EXPECT_EQ(argument("30 seconds ago"), kExample - 30 * kMicrosPerSecond);
  EXPECT_EQ(argument("2 h ago"), kExample - 120 * minute);
  EXPECT_EQ(argument("1 hour ago"), kExample - 60 * minute);
  EXPECT_EQ(argument("2 hours ago"), kExample - 120 * minute);
  EXPECT_EQ(argument("3 d ago"), kExample - 3 * kMicrosPerDay);
  EXPECT_EQ(argument("1 day ago"), kExample - kMicrosPerDay);
  EXPECT_EQ(argument("3 days ago"), kExample - 3 * kMicrosPerDay);
  EXPECT_EQ(argument("2 weeks ago"), kExample - 14 * kMicrosPerDay);
  EXPECT_EQ(argument("0 s ago"), kExample);
}

TEST(ReviewTime, AbsoluteArgument) {
  EXPECT_EQ(argument("2026-11-29 10:02:11.520113"), kExample);
  EXPECT_EQ(argument("2026-11-29T10:02:11.520113Z"), kExample);
}

TEST(ReviewTime, MalformedArgumentsAreErrorsThatSayWhatIsExpected) {
  for (const char *text : {"", "ago", "10 ago", "min ago", "10 min", "10 fortnights ago",
                           "-10 min ago", "10 m ago", "1.5 h ago", "ten min ago",
                           "999999999999999 weeks ago", "10 min ago later", "Today"}) {
    auto r = parse_time_argument(text, kExample);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.error().message().find("N min ago"), std::string::npos) << r.error().message();
  }
}

TEST(ReviewTime, TableTimeIsTruncatedToHundredths) {
  EXPECT_EQ(format_row_time(kExample), "2026-11-29 10:02:11.52");
  EXPECT_EQ(format_row_time(kExample + 9886), "2026-11-29 10:02:11.52");
  EXPECT_EQ(format_row_time(0), "1970-01-01 00:00:00.00");
  EXPECT_EQ(format_row_time(-1), "1969-12-31 23:59:59.99");
}
