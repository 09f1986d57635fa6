// SyscallEntries, the sorted array behind SystemCallFilter=: folding a group's ids or one name
// in must do exactly what a lookup per name in a std::map<std::string, int> did: set (add or
// overwrite) or erase, and iterate in the names' order.
#include "policy/syscall_entries.hpp"

#include "policy/policy.hpp"
#include "policy/syscall_groups.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using rf::SyscallEntries;
namespace sc = rf::syscalls;
using Ids = std::vector<sc::NameId>;
using Pairs = std::vector<std::pair<std::string, int>>;

namespace {

Pairs pairs(const SyscallEntries &entries) { return {entries.begin(), entries.end()}; }
Pairs pairs(const std::map<std::string, int> &entries) { return {entries.begin(), entries.end()}; }

sc::NameId id(std::string_view name) {
  std::optional<sc::NameId> found = sc::id_of(name);
  EXPECT_TRUE(found) << name;
  return found.value_or(0);
}

// Ids of names some group lists, sorted as the names are.
Ids ids(std::initializer_list<std::string_view> names) {
  Ids out;
  for (std::string_view name : names)
    out.push_back(id(name));
  return out;
}

// "cachestat": libseccomp knows it, no group of systemd 252 lists it.
constexpr std::string_view kOther = "cachestat";

} // namespace

TEST(SyscallEntries, AssignIdsIntoEmptyAddsInOrder) {
  SyscallEntries entries;
  EXPECT_TRUE(entries.empty());
  entries.assign(ids({"brk", "read", "write"}), rf::kDefaultAction);
  EXPECT_EQ(pairs(entries), (Pairs{{"brk", -1}, {"read", -1}, {"write", -1}}));
  EXPECT_EQ(entries.size(), 3u);
}

TEST(SyscallEntries, AssignIdsInterleavesWithEntriesAndOverwritesTheirAction) {
  SyscallEntries entries;
  for (std::string_view name : {"close", "mount", "read"})
    entries.assign(name, rf::kDefaultAction);
  entries.assign(kOther, EIO);
  entries.assign(ids({"brk", "capget", "mount", "open", "write"}), EPERM);
  EXPECT_EQ(pairs(entries), (Pairs{{"brk", EPERM}, {"cachestat", EIO}, {"capget", EPERM},
                                   {"close", -1}, {"mount", EPERM}, {"open", EPERM},
                                   {"read", -1}, {"write", EPERM}}));
}

TEST(SyscallEntries, AssignOneNameInsertsOrOverwritesInPlace) {
  SyscallEntries entries;
  entries.assign(ids({"close", "read"}), rf::kDefaultAction);
  entries.assign("accept", 1);
  entries.assign("open", 2);
  entries.assign("write", 3);
  entries.assign("read", 4);
  entries.assign(kOther, 5);
  entries.assign(kOther, 6);
  EXPECT_EQ(pairs(entries), (Pairs{{"accept", 1}, {"cachestat", 6}, {"close", -1}, {"open", 2},
                                   {"read", 4}, {"write", 3}}));
}

TEST(SyscallEntries, ActionsOfErrnoAndKillEntries) {
  SyscallEntries entries;
  entries.assign(ids({"mount", "umount2"}), EBADF);
  entries.assign("umount2", rf::kKillAction);
  EXPECT_EQ(entries.action("mount"), EBADF);
  EXPECT_EQ(entries.action("umount2"), rf::kKillAction);
  EXPECT_EQ(entries.action("read"), std::nullopt);
  EXPECT_EQ(entries.action(kOther), std::nullopt);
  EXPECT_EQ(entries.action("no_such_call"), std::nullopt);
  EXPECT_TRUE(entries.contains("mount"));
  EXPECT_FALSE(entries.contains("mount2"));
}

TEST(SyscallEntries, EraseRemovesPresentNamesAndIgnoresAbsentOnes) {
  SyscallEntries entries;
  entries.assign(ids({"brk", "mount", "read", "write"}), rf::kDefaultAction);
  entries.assign(kOther, EIO);
  entries.erase(ids({"accept", "mount", "open", "write"}));
  EXPECT_EQ(pairs(entries), (Pairs{{"brk", -1}, {"cachestat", EIO}, {"read", -1}}));
  entries.erase(kOther);
  entries.erase("read");
  entries.erase("no_such_call");
  EXPECT_EQ(pairs(entries), (Pairs{{"brk", -1}}));
  entries.erase(ids({"brk"}));
  EXPECT_TRUE(entries.empty());
  entries.erase(ids({"read"}));
  entries.erase(kOther);
  EXPECT_TRUE(entries.empty());
  entries.assign(kOther, 7); // back, in the same place
  EXPECT_EQ(pairs(entries), (Pairs{{"cachestat", 7}}));
}

TEST(SyscallEntries, EmptyListChangesNothing) {
  SyscallEntries entries;
  entries.assign("read", rf::kDefaultAction);
  entries.assign(Ids{}, EPERM);
  entries.erase(Ids{});
  EXPECT_EQ(pairs(entries), (Pairs{{"read", -1}}));
}

TEST(SyscallEntries, EqualMeansSameNamesAndActions) {
  SyscallEntries a, b;
  a.assign("read", 1);
  a.assign(kOther, 2);
  b.assign(kOther, 2); // its other names in another order
  b.assign("read", 1);
  EXPECT_EQ(a, b);
  b.assign("read", 3);
  EXPECT_NE(a, b);
  SyscallEntries copy = a;
  EXPECT_EQ(copy, a);
  EXPECT_EQ(pairs(copy), (Pairs{{"cachestat", 2}, {"read", 1}}));
}

// systemd's groups, single names (some in no group) and random subsets of @known, folded in
// as SystemCallFilter= words would be, against the lookup-per-name fold into a std::map.
TEST(SyscallEntries, GroupsNamesAndRandomListsEqualTheMapFold) {
  std::mt19937 random(252);
  std::span<const sc::NameId> known = sc::find_group("@known")->expansion;
  auto groups = sc::groups();
  const std::string_view others[] = {kOther, "nfsservctl", "uretprobe"};
  SyscallEntries entries;
  std::map<std::string, int> expected;
  for (int round = 0; round < 900; ++round) {
    Ids names;
    std::string_view one;
    switch (round % 4) {
    case 0: {
      std::span<const sc::NameId> expansion = groups[random() % groups.size()].expansion;
      names.assign(expansion.begin(), expansion.end());
      break;
    }
    case 1:
      one = sc::name_of(known[random() % known.size()]);
      break;
    case 2:
      one = others[random() % std::size(others)];
      break;
    default:
      for (std::size_t one_in = 1 + random() % 64; sc::NameId name : known)
        if (random() % one_in == 0)
          names.push_back(name);
    }
    std::vector<std::string_view> touched{one};
    if (one.empty()) {
      touched.clear();
      for (sc::NameId name : names)
        touched.push_back(sc::name_of(name));
    }
    if (random() % 3 == 0) {
      one.empty() ? entries.erase(names) : entries.erase(one);
      for (std::string_view name : touched)
        expected.erase(std::string(name));
    } else {
      int action = random() % 2 ? rf::kDefaultAction : static_cast<int>(random() % 200);
      one.empty() ? entries.assign(names, action) : entries.assign(one, action);
      for (std::string_view name : touched)
        expected[std::string(name)] = action;
    }
    ASSERT_EQ(pairs(entries), pairs(expected)) << "round " << round;
    ASSERT_EQ(entries.size(), expected.size());
  }
}
