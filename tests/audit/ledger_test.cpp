// The ledger: kernel counters (exact) and traced attempts (who) merged into shares whose
// counts add up to the counters.
#include "audit/ledger.hpp"

#include <gtest/gtest.h>
#include <string>

namespace rf::audit {
namespace {

using TestLedger = Ledger<std::string, std::string>; // key "addr/proto", match "addr"
using Total = TestLedger::Total;

std::uint64_t sum(const std::vector<TestLedger::Share> &shares) {
  std::uint64_t total = 0;
  for (const auto &s : shares)
    total += s.count;
  return total;
}

const Who kAlice{10, "alice"}, kBob{20, "bob"}, kLast{30, "last"};

TEST(Ledger, TracedAttemptsNameTheirProcesses) {
  TestLedger ledger;
  ledger.attribute("10.0.0.1", kAlice);
  ledger.attribute("10.0.0.1", kBob);
  ledger.attribute("10.0.0.1", kBob);
  auto shares = ledger.settle({{"10.0.0.1/tcp", "10.0.0.1", 3, kLast}});
  ASSERT_EQ(shares.size(), 2u);
  EXPECT_EQ(shares[0].who, kAlice);
  EXPECT_EQ(shares[0].count, 1u);
  EXPECT_EQ(shares[1].who, kBob);
  EXPECT_EQ(shares[1].count, 2u);
}

TEST(Ledger, UntracedRefusalsGoToTheCountersLastProcess) {
  TestLedger ledger;
  ledger.attribute("10.0.0.1", kAlice); // the ring buffer lost the other four
  auto shares = ledger.settle({{"10.0.0.1/tcp", "10.0.0.1", 5, kLast}});
  ASSERT_EQ(shares.size(), 2u);
  EXPECT_EQ(shares[1].who, kLast);
  EXPECT_EQ(shares[1].count, 4u);
  EXPECT_EQ(sum(shares), 5u);
}

TEST(Ledger, ReportsOnlyTheGrowthSinceTheLastSettle) {
  TestLedger ledger;
  EXPECT_EQ(sum(ledger.settle({{"a/tcp", "a", 4, kLast}})), 4u);
  EXPECT_TRUE(ledger.settle({{"a/tcp", "a", 4, kLast}}).empty());
  ledger.attribute("a", kAlice);
  auto shares = ledger.settle({{"a/tcp", "a", 6, kLast}});
  EXPECT_EQ(sum(shares), 2u);
  EXPECT_EQ(shares[0].who, kAlice);
}

TEST(Ledger, ATracedEpermNoCounterShowsIsDropped) {
  TestLedger ledger;
  ledger.attribute("10.9.9.9", kAlice); // EPERM from something else than ringfence
  ledger.attribute("a", kBob);
  ledger.attribute("a", kBob); // more than the counter grew: the surplus is not ours
  auto shares = ledger.settle({{"a/tcp", "a", 1, kLast}});
  ASSERT_EQ(shares.size(), 1u);
  EXPECT_EQ(shares[0].who, kBob);
  EXPECT_EQ(shares[0].count, 1u);
  EXPECT_TRUE(ledger.settle({{"a/tcp", "a", 1, kLast}}).empty()); // nothing carried over
}

TEST(Ledger, AMatchSpansKeysOfSeveralProtocols) {
  TestLedger ledger;
  ledger.attribute("a", kAlice);
  ledger.attribute("a", kAlice);
  auto shares = ledger.settle({{"a/tcp", "a", 1, kLast}, {"a/udp", "a", 1, kLast}});
  ASSERT_EQ(shares.size(), 2u);
  EXPECT_EQ(shares[0].key, "a/tcp");
  EXPECT_EQ(shares[1].key, "a/udp");
  EXPECT_EQ(shares[0].who, kAlice);
  EXPECT_EQ(shares[1].who, kAlice);
}

TEST(Ledger, AFloodAddsUpExactly) {
  TestLedger ledger;
  std::uint64_t reported = 0;
  for (std::uint64_t total = 1000; total <= 20000; total += 1000) {
    for (int i = 0; i < 300; ++i) // the ring buffer kept some of each thousand
      ledger.attribute("a", i % 2 ? kAlice : kBob);
    reported += sum(ledger.settle({{"a/tcp", "a", total, kLast}}));
  }
  EXPECT_EQ(reported, 20000u);
}

} // namespace
} // namespace rf::audit
