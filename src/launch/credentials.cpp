#include "launch/credentials.hpp"

#include <sys/prctl.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <grp.h>
#include <pwd.h>

namespace rf::launch {
namespace {

template <typename Id> std::optional<Id> parse_id(const std::string &text) {
  Id id{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size())
    return std::nullopt;
  return id;
}

Result<gid_t> resolve_group(const std::string &directive, const std::string &name) {
  if (auto gid = parse_id<gid_t>(name))
    return *gid;
  group entry{}, *found = nullptr;
  std::vector<char> buffer(16384);
  int err = ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (found)
    return entry.gr_gid;
  if (err != 0)
    return Error::from_errno(directive + "=" + name + ": failed to look up the group", err);
  return Error::msg(directive + "=" + name + ": no such group");
}

Account account_of(const passwd &entry) {
  return Account{entry.pw_name, entry.pw_uid, entry.pw_gid, entry.pw_dir ? entry.pw_dir : "/",
                 entry.pw_shell && *entry.pw_shell ? entry.pw_shell : "/bin/sh"};
}

Result<std::vector<gid_t>> account_groups(const Account &account) {
  std::vector<gid_t> groups(64);
  for (;;) {
    int count = static_cast<int>(groups.size());
    if (::getgrouplist(account.name.c_str(), account.gid, groups.data(), &count) >= 0) {
      groups.resize(static_cast<std::size_t>(count));
      return groups;
    }
    if (count <= static_cast<int>(groups.size()))
      return Error::msg("User=" + account.name + ": failed to look up its groups");
    groups.resize(static_cast<std::size_t>(count));
  }
}

} // namespace

Result<std::optional<Account>> resolve_account(const Policy &policy) {
  if (!policy.user)
    return std::optional<Account>();
  const std::string &user = *policy.user;
  passwd entry{}, *found = nullptr;
  std::vector<char> buffer(16384);
  int err;
  auto uid = parse_id<uid_t>(user);
  if (uid)
    err = ::getpwuid_r(*uid, &entry, buffer.data(), buffer.size(), &found);
  else
    err = ::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (found)
    return std::optional<Account>(account_of(entry));
  if (err != 0 && err != ENOENT)
    return Error::from_errno("User=" + user + ": failed to look up the user", err);
  if (uid) // systemd runs a numeric uid without a passwd entry, with its primary gid equal
    return std::optional<Account>(Account{user, *uid, static_cast<gid_t>(*uid), "/", "/usr/sbin/nologin"});
  return Error::msg("User=" + user + ": no such user");
}

Result<Credentials> resolve_credentials(const Policy &policy,
                                        const std::optional<Account> &account) {
  Credentials creds;
  if (account) {
    creds.uid = account->uid;
    creds.gid = account->gid;
    Result<std::vector<gid_t>> groups = account_groups(*account);
    if (!groups)
      return groups.error();
    creds.groups = std::move(*groups);
  }
  if (policy.group) {
    Result<gid_t> gid = resolve_group("Group", *policy.group);
    if (!gid)
      return gid.error();
    creds.gid = *gid;
  }
  for (const std::string &name : policy.supplementary_groups) {
    Result<gid_t> gid = resolve_group("SupplementaryGroups", name);
    if (!gid)
      return gid.error();
    creds.groups.push_back(*gid);
  }
  std::sort(creds.groups.begin(), creds.groups.end());
  creds.groups.erase(std::unique(creds.groups.begin(), creds.groups.end()), creds.groups.end());
  return creds;
}

// The kernel's highest capability (what /proc/sys/kernel/cap_last_cap says): the largest
// number PR_CAPBSET_READ accepts, found in six prctl() calls, cheaper than reading /proc.
int last_capability() {
  int known = 0, unknown = 64; // the bounding set is 64 bits wide
  while (unknown - known > 1) {
    int middle = (known + unknown) / 2;
    (::prctl(PR_CAPBSET_READ, middle, 0, 0, 0) >= 0 ? known : unknown) = middle;
  }
  return known;
}

} // namespace rf::launch
