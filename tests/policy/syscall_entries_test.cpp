// The merge walk that folds sorted syscall name lists into SyscallFilter::entries must do
// exactly what a lookup per name did: set (add or overwrite) or erase, nothing else.
#include "policy/syscall_entries.hpp"

#include "policy/policy.hpp"
#include "policy/syscall_groups.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <random>
#include <string>
#include <string_view>
#include <vector>

using Entries = std::map<std::string, int>;
using Names = std::vector<std::string_view>;

namespace {

// What the merge walk replaced: one full lookup per name.
void assign_naively(Entries &entries, const Names &names, int action) {
  for (std::string_view name : names)
    entries[std::string(name)] = action;
}

void erase_naively(Entries &entries, const Names &names) {
  for (std::string_view name : names)
    entries.erase(std::string(name));
}

} // namespace

TEST(SyscallEntries, AssignIntoEmptyAddsInOrder) {
  Entries entries;
  rf::assign_entries(entries, Names{"brk", "read", "write"}, rf::kDefaultAction);
  EXPECT_EQ(entries, (Entries{{"brk", -1}, {"read", -1}, {"write", -1}}));
}

TEST(SyscallEntries, AssignInterleavesWithExistingEntriesAndOverwritesTheirAction) {
  Entries entries{{"close", -1}, {"mount", -1}, {"read", -1}};
  rf::assign_entries(entries, Names{"brk", "mount", "open", "zzz"}, EPERM);
  EXPECT_EQ(entries, (Entries{{"brk", EPERM}, {"close", -1}, {"mount", EPERM}, {"open", EPERM},
                              {"read", -1}, {"zzz", EPERM}}));
}

TEST(SyscallEntries, AssignKeepsTheLastErrnoAndKill) {
  Entries entries;
  rf::assign_entries(entries, Names{"mount", "umount2"}, EBADF);
  rf::assign_entries(entries, Names{"umount2"}, rf::kKillAction);
  EXPECT_EQ(entries, (Entries{{"mount", EBADF}, {"umount2", rf::kKillAction}}));
}

TEST(SyscallEntries, EraseRemovesPresentNamesAndIgnoresAbsentOnes) {
  Entries entries{{"brk", -1}, {"mount", EIO}, {"read", -1}, {"write", -1}};
  rf::erase_entries(entries, Names{"aaa", "mount", "open", "write", "zzz"});
  EXPECT_EQ(entries, (Entries{{"brk", -1}, {"read", -1}}));
  rf::erase_entries(entries, Names{"brk", "read"});
  EXPECT_TRUE(entries.empty());
  rf::erase_entries(entries, Names{"read"});
  EXPECT_TRUE(entries.empty());
}

TEST(SyscallEntries, EmptyListChangesNothing) {
  Entries entries{{"read", -1}};
  rf::assign_entries(entries, Names{}, EPERM);
  rf::erase_entries(entries, Names{});
  EXPECT_EQ(entries, (Entries{{"read", -1}}));
}

// Names far apart in a large map take the lookup instead of the walk; both must land right.
TEST(SyscallEntries, FarApartNamesInALargeMap) {
  Entries entries, expected;
  for (std::string_view name : rf::syscalls::expand_group("@known"))
    entries.emplace(name, rf::kDefaultAction);
  expected = entries;
  Names far{"accept", "mount", "not_a_call", "write", "zz_last"};
  rf::assign_entries(entries, far, EACCES);
  assign_naively(expected, far, EACCES);
  EXPECT_EQ(entries, expected);
  rf::erase_entries(entries, far);
  erase_naively(expected, far);
  EXPECT_EQ(entries, expected);
}

// systemd's own groups folded in every order, as SystemCallFilter= lines would, against the
// naive fold; random subsets of @known too, so that every gap size is walked.
TEST(SyscallEntries, GroupsAndRandomListsEqualTheNaiveFold) {
  std::mt19937 random(252);
  auto known = rf::syscalls::expand_group("@known");
  Entries entries, expected;
  for (int round = 0; round < 400; ++round) {
    Names names;
    if (round % 2 == 0) {
      auto groups = rf::syscalls::groups();
      auto group = groups[random() % groups.size()];
      names.assign(group.expansion.begin(), group.expansion.end());
    } else {
      std::size_t keep_one_in = 1 + random() % 64;
      for (std::string_view name : known)
        if (random() % keep_one_in == 0)
          names.push_back(name);
    }
    switch (random() % 3) {
    case 0:
      rf::assign_entries(entries, names, rf::kDefaultAction);
      assign_naively(expected, names, rf::kDefaultAction);
      break;
    case 1: {
      int action = static_cast<int>(random() % 200);
      rf::assign_entries(entries, names, action);
      assign_naively(expected, names, action);
      break;
    }
    default:
      rf::erase_entries(entries, names);
      erase_naively(expected, names);
    }
    ASSERT_EQ(entries, expected) << "round " << round;
  }
}
