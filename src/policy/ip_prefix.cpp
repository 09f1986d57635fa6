#include "policy/ip_prefix.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <charconv>
#include <set>
#include <tuple>
#include <sys/socket.h>

namespace rf {
namespace {

IpPrefix make_prefix(int family, std::string_view address, int length) {
  IpPrefix p;
  p.family = family;
  std::string text(address);
  inet_pton(family, text.c_str(), p.addr.data());
  p.length = static_cast<std::uint8_t>(length);
  return p;
}

void clear_host_bits(IpPrefix &p) {
  int bytes = p.family == AF_INET ? 4 : 16;
  for (int i = 0; i < bytes; ++i) {
    int keep = std::clamp(p.length - i * 8, 0, 8);
    p.addr[static_cast<size_t>(i)] &= static_cast<std::uint8_t>(0xff00u >> keep);
  }
}

// systemd's is_localhost(): "localhost", "localhost.", "localhost.localdomain[.]",
// and any name under ".localhost[.]".
bool is_localhost_word(std::string_view w) {
  if (!w.empty() && w.back() == '.')
    w.remove_suffix(1);
  return w == "localhost" || w == "localhost.localdomain" ||
         (w.size() > 10 && w.substr(w.size() - 10) == ".localhost");
}

} // namespace

Result<std::vector<IpPrefix>> parse_ip_prefix_word(std::string_view word) {
  if (word == "any")
    return std::vector{make_prefix(AF_INET, "0.0.0.0", 0), make_prefix(AF_INET6, "::", 0)};
  if (is_localhost_word(word))
    return std::vector{make_prefix(AF_INET, "127.0.0.0", 8), make_prefix(AF_INET6, "::1", 128)};
  if (word == "link-local") // systemd uses fe80::/64, not RFC 4291's fe80::/10
    return std::vector{make_prefix(AF_INET, "169.254.0.0", 16),
                       make_prefix(AF_INET6, "fe80::", 64)};
  if (word == "multicast")
    return std::vector{make_prefix(AF_INET, "224.0.0.0", 4), make_prefix(AF_INET6, "ff00::", 8)};

  std::string_view address = word, length_text;
  if (auto slash = word.find('/'); slash != std::string_view::npos) {
    address = word.substr(0, slash);
    length_text = word.substr(slash + 1);
  }
  IpPrefix p;
  std::string address_str(address);
  if (inet_pton(AF_INET, address_str.c_str(), p.addr.data()) == 1)
    p.family = AF_INET;
  else if (inet_pton(AF_INET6, address_str.c_str(), p.addr.data()) == 1)
    p.family = AF_INET6;
  else
    return Error::msg("invalid IP address prefix '" + std::string(word) + "'");

  int max_length = p.family == AF_INET ? 32 : 128;
  int length = max_length;
  if (!length_text.empty() || word.find('/') != std::string_view::npos) {
    auto [end, ec] =
        std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
    if (ec != std::errc() || end != length_text.data() + length_text.size() ||
        length_text.empty() || length < 0 || length > max_length)
      return Error::msg("invalid prefix length in '" + std::string(word) + "' (0.." +
                        std::to_string(max_length) + ")");
  }
  p.length = static_cast<std::uint8_t>(length);
  clear_host_bits(p);
  return std::vector{p};
}

bool prefix_covers(const IpPrefix &outer, const IpPrefix &inner) {
  if (outer.family != inner.family || outer.length > inner.length)
    return false;
  IpPrefix masked = inner;
  masked.length = outer.length;
  clear_host_bits(masked);
  return masked.addr == outer.addr;
}

std::vector<IpPrefix> reduce_prefixes(std::vector<IpPrefix> prefixes) {
  // Shorter prefixes first, so a prefix is only checked against possible covers; and only at
  // the lengths that occur, so 100k prefixes reduce in a few milliseconds.
  std::sort(prefixes.begin(), prefixes.end(), [](const IpPrefix &a, const IpPrefix &b) {
    return std::tie(a.family, a.length, a.addr) < std::tie(b.family, b.length, b.addr);
  });
  std::set<IpPrefix> kept;
  std::set<std::pair<int, int>> lengths; // (family, length) present in `kept`
  for (const auto &p : prefixes) {
    bool covered = false;
    for (auto [family, length] : lengths) {
      if (family != p.family || length > p.length)
        continue;
      IpPrefix cover = p;
      cover.length = static_cast<std::uint8_t>(length);
      clear_host_bits(cover);
      if (kept.count(cover)) {
        covered = true;
        break;
      }
    }
    if (!covered) {
      kept.insert(p);
      lengths.insert({p.family, p.length});
    }
  }
  return {kept.begin(), kept.end()};
}

std::string format_prefix(const IpPrefix &prefix) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(prefix.family, prefix.addr.data(), buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(prefix.length);
}

} // namespace rf
