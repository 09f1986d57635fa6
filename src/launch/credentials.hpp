// User=, Group= and SupplementaryGroups=, resolved through NSS by the supervisor, before the
// child exists (NSS lookups do not belong between clone and exec).
#pragma once

#include "launch/environment.hpp"
#include "policy/policy.hpp"
#include "util/result.hpp"

#include <optional>
#include <sys/types.h>
#include <vector>

namespace rf::launch {

struct Credentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups; // exactly the supplementary groups the service gets
};

// The account of User=, or nullopt when User= is not set (the service runs as root).
// A numeric uid without a passwd entry is allowed, with HOME=/ as systemd does.
Result<std::optional<Account>> resolve_account(const Policy &policy);

// gid: Group=, else the account's primary group, else 0. Supplementary groups: the
// account's groups from the group database (initgroups) plus SupplementaryGroups=; without
// User=, only SupplementaryGroups= (the caller's own groups are never inherited).
Result<Credentials> resolve_credentials(const Policy &policy, const std::optional<Account> &account);

// The kernel's highest capability number, as /proc/sys/kernel/cap_last_cap says.
int last_capability();

} // namespace rf::launch
