// Merges the two things the kernel tells about refusals into records: the enforcing
// programs' counters, which are exact (every refusal, whatever the path), and the tracing
// programs' events, which say who made an attempt but may be lost when the ring buffer is
// full, and may stand for an EPERM that was not ringfence's.
//
// Each settle() turns the counters' growth since the last one into shares: first to the
// processes traced for that destination (or system call), then the rest to the process the
// counter saw last. So the counts of the records add up to the counters exactly, an event
// never adds a count of its own, and a traced EPERM that no counter shows is dropped.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <sys/types.h>
#include <tuple>
#include <vector>

namespace rf::audit {

struct Who {
  pid_t pid = 0; // 0: not known
  std::string comm;
  friend bool operator<(const Who &a, const Who &b) {
    return std::tie(a.pid, a.comm) < std::tie(b.pid, b.comm);
  }
  friend bool operator==(const Who &, const Who &) = default;
};

// Key: what a counter counts (one table entry). Match: what an event can tell of it (the
// tracing programs do not know the protocol of a socket, say).
template <typename Key, typename Match> class Ledger {
public:
  struct Total {
    Key key;
    Match match;
    std::uint64_t count = 0; // since the run started
    Who last;                // the last process the counter saw
  };
  struct Share {
    Key key;
    Who who;
    std::uint64_t count = 0;
  };

  void attribute(const Match &match, const Who &who) { ++traced_[match][who]; }

  // Call with every counter of the run (they only grow); drains what was attributed.
  std::vector<Share> settle(const std::vector<Total> &totals) {
    std::vector<Share> shares;
    for (const Total &total : totals) {
      std::uint64_t &reported = reported_[total.key];
      std::uint64_t left = total.count > reported ? total.count - reported : 0;
      reported += left;
      auto traced = traced_.find(total.match);
      if (traced != traced_.end())
        for (auto &[who, attempts] : traced->second) {
          std::uint64_t taken = std::min(attempts, left);
          if (taken == 0)
            continue;
          shares.push_back({total.key, who, taken});
          attempts -= taken;
          left -= taken;
        }
      if (left > 0)
        shares.push_back({total.key, total.last, left});
    }
    traced_.clear(); // what no counter accounts for was not ringfence's refusal
    return shares;
  }

private:
  std::map<Match, std::map<Who, std::uint64_t>> traced_;
  std::map<Key, std::uint64_t> reported_;
};

} // namespace rf::audit
