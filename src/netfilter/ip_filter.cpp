#include "netfilter/ip_filter.hpp"

#include "policy/ip_prefix.hpp"

#include "netfilter/ip_filter_skel.hpp"
#include "ip_filter.build_id.h"
#include "sandbox_abi.h"
#include "util/bpf_handles.hpp"

#include <bpf/bpf.h>
#include <algorithm>
#include <array>
#include <charconv>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace rf::netfilter {
namespace {

// libbpf prints load and verifier failures to stderr by default. Library code returns
// errors and lets the edge report them, so libbpf speaks only when asked to.
int print_libbpf_when_debugging(enum libbpf_print_level, const char *format, va_list args) {
  if (std::getenv("RINGFENCE_DEBUG") == nullptr)
    return 0;
  return std::vfprintf(stderr, format, args);
}

struct ProgramSlot {
  const char *name; // as the kernel reports it (15 characters at most)
  bpf_attach_type type;
};

// Attach order: egress last, so that a set whose egress program is attached is whole.
constexpr ProgramSlot kPrograms[] = {
    {"rf_connect4", BPF_CGROUP_INET4_CONNECT}, {"rf_connect6", BPF_CGROUP_INET6_CONNECT},
    {"rf_sendmsg4", BPF_CGROUP_UDP4_SENDMSG},  {"rf_sendmsg6", BPF_CGROUP_UDP6_SENDMSG},
    {"rf_ingress", BPF_CGROUP_INET_INGRESS},   {"rf_egress", BPF_CGROUP_INET_EGRESS},
};

bpf_program *program_of(ip_filter &skel, bpf_attach_type type) {
  switch (type) {
  case BPF_CGROUP_INET4_CONNECT: return skel.progs.rf_connect4;
  case BPF_CGROUP_INET6_CONNECT: return skel.progs.rf_connect6;
  case BPF_CGROUP_UDP4_SENDMSG: return skel.progs.rf_sendmsg4;
  case BPF_CGROUP_UDP6_SENDMSG: return skel.progs.rf_sendmsg6;
  case BPF_CGROUP_INET_INGRESS: return skel.progs.rf_ingress;
  default: return skel.progs.rf_egress;
  }
}

// An attached program of ours and the maps it uses, found through the kernel's ids.
struct FoundProgram {
  UniqueFd program;
  std::uint32_t id = 0;
  std::uint64_t build = 0; // build_id in its .rodata
  FilterMaps maps;
};

Result<std::vector<std::uint32_t>> attached_ids(int parent_fd, bpf_attach_type type) {
  std::vector<std::uint32_t> ids(64);
  std::uint32_t count = static_cast<std::uint32_t>(ids.size()), flags = 0;
  if (int err = bpf_prog_query(parent_fd, type, 0, &flags, ids.data(), &count); err < 0)
    return Error::from_errno("Failed to query the BPF programs of the cgroup parent", -err);
  ids.resize(count);
  return ids;
}

// Every map of a set, by the name the object (and the kernel) gives it.
struct MapSlot {
  const char *name;
  UniqueFd FilterMaps::*fd;
};
constexpr MapSlot kMaps[] = {
    {"allow4", &FilterMaps::allow4},     {"deny4", &FilterMaps::deny4},
    {"allow6", &FilterMaps::allow6},     {"deny6", &FilterMaps::deny6},
    {"policies", &FilterMaps::policies}, {"packet_state", &FilterMaps::packet_state},
    {"denials", &FilterMaps::denials},   {"run_refusals", &FilterMaps::run_refusals},
    {"verdicts", &FilterMaps::verdicts},
};

UniqueFd *map_slot(FilterMaps &maps, std::string_view name) {
  for (const MapSlot &slot : kMaps)
    if (name == slot.name)
      return &(maps.*slot.fd);
  return nullptr;
}

// Our program with this id, or nullopt for someone else's (or one that went away).
// The program `id` opened into `program`, and the ids of its maps, if it is one of ours
// (named rf_*); nullopt for someone else's, or one that went away.
std::optional<std::vector<std::uint32_t>> our_program(std::uint32_t id, UniqueFd &program) {
  program.reset(bpf_prog_get_fd_by_id(id));
  if (!program)
    return std::nullopt;
  std::vector<std::uint32_t> map_ids(16);
  bpf_prog_info info{};
  info.nr_map_ids = static_cast<std::uint32_t>(map_ids.size());
  info.map_ids = reinterpret_cast<std::uint64_t>(map_ids.data());
  std::uint32_t length = sizeof info;
  if (bpf_obj_get_info_by_fd(program.get(), &info, &length) < 0 ||
      std::string_view(info.name).substr(0, 3) != "rf_")
    return std::nullopt;
  map_ids.resize(std::min<std::size_t>(info.nr_map_ids, map_ids.size()));
  return map_ids;
}

std::optional<FoundProgram> inspect(std::uint32_t id) {
  FoundProgram found;
  found.id = id;
  std::optional<std::vector<std::uint32_t>> map_ids = our_program(id, found.program);
  if (!map_ids)
    return std::nullopt;
  for (std::uint32_t map_id : *map_ids) {
    UniqueFd map(bpf_map_get_fd_by_id(map_id));
    bpf_map_info map_info{};
    std::uint32_t map_length = sizeof map_info;
    if (!map || bpf_obj_get_info_by_fd(map.get(), &map_info, &map_length) < 0)
      continue;
    std::string_view name(map_info.name);
    if (name.ends_with(".rodata") && map_info.value_size == sizeof(ip_filter::ip_filter__rodata)) {
      std::uint32_t zero = 0;
      ip_filter::ip_filter__rodata rodata{};
      if (bpf_map_lookup_elem(map.get(), &zero, &rodata) == 0)
        found.build = rodata.build_id;
    } else if (UniqueFd *slot = map_slot(found.maps, name)) {
      *slot = std::move(map);
    }
  }
  return found;
}

bool complete(const FilterMaps &m) {
  return std::all_of(std::begin(kMaps), std::end(kMaps),
                     [&](const MapSlot &slot) { return (m.*slot.fd).valid(); });
}

Result<std::vector<FoundProgram>> ours_attached(int parent_fd, bpf_attach_type type) {
  Result<std::vector<std::uint32_t>> ids = attached_ids(parent_fd, type);
  if (!ids)
    return ids.error();
  std::vector<FoundProgram> found;
  for (std::uint32_t id : *ids)
    if (std::optional<FoundProgram> program = inspect(id))
      found.push_back(std::move(*program));
  return found;
}

std::uint32_t map_id_of(int map_fd) {
  bpf_map_info info{};
  std::uint32_t length = sizeof info;
  return bpf_obj_get_info_by_fd(map_fd, &info, &length) == 0 ? info.id : 0;
}

// Whether the attached program `id` is one of ours (rf_*) that does not use the rule map `ours`
// (`deny4`, which every program of a set uses; 0: there is no set of ours). Two syscalls: the
// maps themselves are not opened.
bool stale_program(std::uint32_t id, std::uint32_t ours, UniqueFd &program) {
  std::optional<std::vector<std::uint32_t>> map_ids = our_program(id, program);
  return map_ids && std::find(map_ids->begin(), map_ids->end(), ours) == map_ids->end();
}

// Detaches every rf_* program that is not part of the set using the rule map `ours`:
// a set of another build, or the part of a set whose attaching was interrupted. Their maps
// hold no rules for new runs, so they would refuse all of their traffic.
Status detach_other_programs(int parent_fd, std::uint32_t ours, bool runs_alive) {
  for (const ProgramSlot &slot : kPrograms) {
    Result<std::vector<std::uint32_t>> ids = attached_ids(parent_fd, slot.type);
    if (!ids)
      return ids.error();
    for (std::uint32_t id : *ids) {
      UniqueFd program;
      if (!stale_program(id, ours, program))
        continue;
      if (runs_alive)
        return Error::msg("the cgroup parent holds IP filter programs of another ringfence "
                          "build while its runs are still alive; wait for them to end, or use "
                          "another --cgroup-parent");
      if (int err = bpf_prog_detach2(program.get(), parent_fd, slot.type); err < 0)
        return Error::from_errno("Failed to detach a stale IP filter program", -err);
    }
  }
  return Ok{};
}

Status take_maps(ip_filter &skel, FilterMaps &maps) {
  for (const MapSlot &slot : kMaps) {
    const bpf_map *map = bpf_object__find_map_by_name(skel.obj, slot.name);
    if (!map)
      return Error::msg(std::string("The IP filter object has no map ") + slot.name);
    UniqueFd &out = maps.*slot.fd;
    out.reset(::fcntl(bpf_map__fd(map), F_DUPFD_CLOEXEC, 3));
    if (!out)
      return Error::from_errno(std::string("Failed to keep the IP filter map ") + slot.name);
  }
  return Ok{};
}

using ProgramIds = std::array<std::uint32_t, std::size(kPrograms)>; // in kPrograms' order

// The programs of ours on every hook that use the rule map `ours` (deny4: all six use it),
// or nullopt when a hook has none: a set whose attaching was interrupted (a killed
// supervisor) is not a set to use.
Result<std::optional<ProgramIds>> whole_set(int parent_fd, std::uint32_t ours) {
  ProgramIds programs{};
  for (std::size_t i = 0; i < std::size(kPrograms); ++i) {
    Result<std::vector<std::uint32_t>> ids = attached_ids(parent_fd, kPrograms[i].type);
    if (!ids)
      return ids.error();
    for (std::uint32_t id : *ids) {
      UniqueFd program;
      std::optional<std::vector<std::uint32_t>> maps = our_program(id, program);
      if (maps && std::find(maps->begin(), maps->end(), ours) != maps->end())
        programs[i] = id;
    }
    if (programs[i] == 0)
      return std::optional<ProgramIds>();
  }
  return std::optional<ProgramIds>(programs);
}

// What the set on a parent is, in an xattr of the parent: its build, its programs and its
// maps by id. Reading it and opening the maps takes a third of the bpf() calls of asking
// every program for its maps and every map for its name, on the start path of every run.
// Ids are never reused while their object lives, and an attached program keeps its maps
// alive: a set whose programs are all still attached is the set the advert describes.
constexpr const char *kSetXattr = "trusted.ringfence.ip_filter";

std::string build_text() {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(build_id()));
  return text;
}

void advertise(int parent_fd, const ProgramIds &programs, const FilterMaps &maps) {
  std::string text = "build=" + build_text() + " programs=";
  for (std::size_t i = 0; i < programs.size(); ++i)
    text += (i ? "," : "") + std::to_string(programs[i]);
  for (const MapSlot &slot : kMaps)
    text += std::string(" ") + slot.name + "=" + std::to_string(map_id_of((maps.*slot.fd).get()));
  // Best effort: without the advert the next run finds the set the slow way.
  static_cast<void>(::fsetxattr(parent_fd, kSetXattr, text.data(), text.size(), 0));
}

std::uint32_t parse_id(std::string_view text) {
  std::uint32_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  return ec == std::errc() && end == text.data() + text.size() ? id : 0;
}

// The programs the comma-separated ids name, one per hook in kPrograms' order, if each is
// attached to its hook; nullopt otherwise.
std::optional<ProgramIds> attached_programs(int parent_fd, std::string_view ids) {
  ProgramIds programs{};
  for (std::size_t i = 0; i < programs.size(); ++i) {
    std::size_t comma = std::min(ids.find(','), ids.size());
    programs[i] = parse_id(ids.substr(0, comma));
    ids = ids.substr(std::min(comma + 1, ids.size()));
    Result<std::vector<std::uint32_t>> attached = attached_ids(parent_fd, kPrograms[i].type);
    if (programs[i] == 0 || !attached ||
        std::find(attached->begin(), attached->end(), programs[i]) == attached->end())
      return std::nullopt;
  }
  if (!ids.empty())
    return std::nullopt;
  return programs;
}

// The ids of the maps the set's programs use: the egress program's (every map but
// `policies`) and the connect4 program's (`policies` with the rules).
std::vector<std::uint32_t> maps_in_use(const ProgramIds &programs) {
  static_assert(kPrograms[0].type == BPF_CGROUP_INET4_CONNECT &&
                kPrograms[std::size(kPrograms) - 1].type == BPF_CGROUP_INET_EGRESS);
  std::vector<std::uint32_t> used;
  for (std::uint32_t id : {programs.front(), programs.back()}) {
    UniqueFd program;
    if (std::optional<std::vector<std::uint32_t>> maps = our_program(id, program))
      used.insert(used.end(), maps->begin(), maps->end());
  }
  return used;
}

// The map `id` if the set's programs use it and it has the name the advert gives it.
UniqueFd advertised_map(std::uint32_t id, std::string_view name,
                        const std::vector<std::uint32_t> &in_use) {
  if (std::find(in_use.begin(), in_use.end(), id) == in_use.end())
    return UniqueFd();
  UniqueFd map(bpf_map_get_fd_by_id(id));
  bpf_map_info info{};
  std::uint32_t length = sizeof info;
  if (!map || bpf_obj_get_info_by_fd(map.get(), &info, &length) < 0 || info.name != name)
    return UniqueFd();
  return map;
}

// This build's set as the parent's advert describes it, if every program of it is still
// attached and uses the maps it names, under those names; nullopt otherwise (no advert,
// another build's, a set since detached, an advert that does not describe the set).
std::optional<FilterMaps> advertised_set(int parent_fd) {
  char buffer[512];
  ssize_t n = ::fgetxattr(parent_fd, kSetXattr, buffer, sizeof buffer);
  if (n <= 0)
    return std::nullopt;
  std::string_view text(buffer, static_cast<std::size_t>(n));
  FilterMaps maps;
  bool build_matches = false;
  std::optional<ProgramIds> programs;
  std::vector<std::uint32_t> in_use;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = std::min(text.find(' ', at), text.size());
    std::string_view field = text.substr(at, end - at);
    at = end + 1;
    std::size_t eq = field.find('=');
    if (eq == std::string_view::npos)
      return std::nullopt;
    std::string_view name = field.substr(0, eq), value = field.substr(eq + 1);
    if (name == "build") {
      build_matches = value == build_text();
    } else if (name == "programs" && build_matches) {
      programs = attached_programs(parent_fd, value);
      if (!programs)
        return std::nullopt;
      in_use = maps_in_use(*programs);
    } else if (UniqueFd *slot = map_slot(maps, name); slot && programs) {
      *slot = advertised_map(parse_id(value), name, in_use);
    }
  }
  if (!programs || !complete(maps))
    return std::nullopt;
  return maps;
}

// Loads a fresh set and attaches it, all or nothing.
Result<std::shared_ptr<FilterMaps>> load_and_attach(int parent_fd, std::uint64_t parent_id,
                                                    int run_level) {
  libbpf_set_print(print_libbpf_when_debugging);
  SkelPtr<ip_filter> skel(ip_filter::open());
  if (!skel)
    return Error::from_errno("Failed to open the IP filter BPF object");
  skel->rodata->parent_cgroup = parent_id;
  skel->rodata->run_level = static_cast<__u32>(run_level);
  skel->rodata->build_id = build_id();
  if (int err = ip_filter::load(skel.get()); err < 0)
    return Error::from_errno("Failed to load the IP filter BPF programs", -err);

  std::size_t attached = 0;
  for (; attached < std::size(kPrograms); ++attached) {
    const ProgramSlot &slot = kPrograms[attached];
    int err = bpf_prog_attach(bpf_program__fd(program_of(*skel, slot.type)), parent_fd, slot.type,
                              BPF_F_ALLOW_MULTI);
    if (err < 0) {
      for (std::size_t i = 0; i < attached; ++i)
        bpf_prog_detach2(bpf_program__fd(program_of(*skel, kPrograms[i].type)), parent_fd,
                         kPrograms[i].type);
      return Error::from_errno(std::string("Failed to attach the IP filter program ") +
                                   slot.name + " to the cgroup parent",
                               -err);
    }
  }
  auto maps = std::make_shared<FilterMaps>();
  RF_TRY(take_maps(*skel, *maps));
  ProgramIds programs{};
  for (std::size_t i = 0; i < programs.size(); ++i) {
    bpf_prog_info info{};
    std::uint32_t length = sizeof info;
    if (bpf_obj_get_info_by_fd(bpf_program__fd(program_of(*skel, kPrograms[i].type)), &info,
                               &length) == 0)
      programs[i] = info.id;
  }
  advertise(parent_fd, programs, *maps);
  return maps; // the programs stay attached after the skeleton is gone
}

template <typename Key> Key rule_key(std::uint64_t cgroup_id, const IpPrefix &prefix) {
  Key key{};
  key.prefixlen = SANDBOX_CGROUP_BITS + prefix.length;
  std::memcpy(key.cgroup, &cgroup_id, sizeof key.cgroup);
  std::memcpy(key.addr, prefix.addr.data(), sizeof key.addr);
  return key;
}

int rules_map(const FilterMaps &maps, const IpPrefix &prefix, bool allow) {
  if (prefix.family == AF_INET)
    return allow ? maps.allow4.get() : maps.deny4.get();
  return allow ? maps.allow6.get() : maps.deny6.get();
}

Status write_rules(const FilterMaps &maps, std::uint64_t cgroup_id,
                   const std::vector<IpPrefix> &prefixes, bool allow) {
  std::uint8_t one = 1;
  for (const IpPrefix &prefix : prefixes) {
    ip4_rule_key key4 = rule_key<ip4_rule_key>(cgroup_id, prefix);
    ip6_rule_key key6 = rule_key<ip6_rule_key>(cgroup_id, prefix);
    const void *key = prefix.family == AF_INET ? static_cast<const void *>(&key4) : &key6;
    int err = bpf_map_update_elem(rules_map(maps, prefix, allow), key, &one, BPF_ANY);
    if (err < 0)
      return Error::from_errno(std::string("Failed to write an ") +
                                   (allow ? "IPAddressAllow=" : "IPAddressDeny=") + " rule",
                               -err);
  }
  return Ok{};
}

void erase_rules(const FilterMaps &maps, std::uint64_t cgroup_id,
                 const std::vector<IpPrefix> &prefixes, bool allow) {
  for (const IpPrefix &prefix : prefixes) {
    if (prefix.family == AF_INET) {
      ip4_rule_key key = rule_key<ip4_rule_key>(cgroup_id, prefix);
      bpf_map_delete_elem(rules_map(maps, prefix, allow), &key);
    } else {
      ip6_rule_key key = rule_key<ip6_rule_key>(cgroup_id, prefix);
      bpf_map_delete_elem(rules_map(maps, prefix, allow), &key);
    }
  }
}

// One zeroed value per possible CPU, as the kernel reads and writes a per-CPU entry: with a
// shorter buffer it would copy other memory into the other CPUs' flags and verdicts.
Result<std::vector<sandbox_packet_state>> per_cpu_states() {
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0)
    return Error::from_errno("Failed to read the number of possible CPUs",
                             cpus < 0 ? -cpus : EINVAL);
  return std::vector<sandbox_packet_state>(static_cast<std::size_t>(cpus));
}

// Deletes the entries of a map keyed by cgroup id whose cgroup is not live. Passed-in socket
// entries (socket cookie | 1 << 63) outlive runs: their locked filters still look them up.
void sweep_run_entries(int map_fd, const std::set<std::uint64_t> &live) {
  std::vector<std::uint64_t> dead;
  std::uint64_t key = 0, next = 0;
  for (const void *at = nullptr; bpf_map_get_next_key(map_fd, at, &next) == 0; at = &key) {
    bool socket_entry = next >> 63;
    if (!socket_entry && !live.count(next))
      dead.push_back(next);
    key = next;
  }
  for (std::uint64_t cgroup_id : dead)
    bpf_map_delete_elem(map_fd, &cgroup_id);
}

// Deletes every key of an LPM trie whose cgroup is not live.
template <typename Key> void sweep_rules(int map_fd, const std::set<std::uint64_t> &live) {
  std::vector<Key> dead;
  Key key{}, next{};
  for (const void *at = nullptr; bpf_map_get_next_key(map_fd, at, &next) == 0; at = &key) {
    std::uint64_t cgroup_id;
    std::memcpy(&cgroup_id, next.cgroup, sizeof cgroup_id);
    if (!live.count(cgroup_id))
      dead.push_back(next);
    key = next;
  }
  for (const Key &k : dead)
    bpf_map_delete_elem(map_fd, &k);
}

// Calls visit(key, value) for every entry of the shared denials table. Batched: the table
// holds the entries of every run under the parent, and each supervisor reads it 4 times a
// second.
template <typename Visit> void for_each_denial(int map_fd, Visit visit) {
  constexpr std::uint32_t kBatch = 1024;
  std::vector<sandbox_denial_key> keys(kBatch);
  std::vector<sandbox_denial> values(kBatch);
  sandbox_denial_key position{}; // hash maps use a bucket index; the key size is room enough
  bool first = true;
  for (;;) {
    std::uint32_t count = kBatch;
    int err = bpf_map_lookup_batch(map_fd, first ? nullptr : &position, &position, keys.data(),
                                   values.data(), &count, nullptr);
    first = false;
    if (err < 0 && err != -ENOENT)
      break;
    for (std::uint32_t i = 0; i < count; ++i)
      visit(keys[i], values[i]);
    if (err == -ENOENT)
      break;
  }
}

// Deletes the denial entries whose run `dead` says is over.
template <typename Dead> void erase_denials(int map_fd, Dead dead) {
  std::vector<sandbox_denial_key> gone;
  for_each_denial(map_fd, [&](const sandbox_denial_key &key, const sandbox_denial &) {
    if (dead(key.cgroup))
      gone.push_back(key);
  });
  for (const sandbox_denial_key &k : gone)
    bpf_map_delete_elem(map_fd, &k);
}

} // namespace

KernelRules kernel_rules(const std::vector<IpPrefix> &allow, const std::vector<IpPrefix> &deny) {
  constexpr std::size_t kMaxPairs = 4'000'000;
  if (allow.size() * deny.size() > kMaxPairs)
    return {allow, deny};
  KernelRules rules;
  for (const IpPrefix &d : deny)
    if (std::none_of(allow.begin(), allow.end(),
                     [&](const IpPrefix &a) { return prefix_covers(a, d); }))
      rules.deny.push_back(d);
  for (const IpPrefix &a : allow)
    if (std::any_of(rules.deny.begin(), rules.deny.end(), [&](const IpPrefix &d) {
          return prefix_covers(a, d) || prefix_covers(d, a);
        }))
      rules.allow.push_back(a);
  return rules;
}

std::uint32_t rule_flags(const KernelRules &rules) {
  std::uint32_t flags = 0;
  // Past a few dozen prefixes an LPM walk costs more than a hash lookup per destination.
  constexpr std::size_t kCacheFrom = 64;
  if (rules.allow.size() + rules.deny.size() >= kCacheFrom)
    flags |= SANDBOX_POLICY_CACHE;
  for (const IpPrefix &p : rules.allow)
    flags |= p.family == AF_INET ? SANDBOX_POLICY_ALLOW4 : SANDBOX_POLICY_ALLOW6;
  for (const IpPrefix &p : rules.deny)
    flags |= p.family == AF_INET ? SANDBOX_POLICY_DENY4 : SANDBOX_POLICY_DENY6;
  return flags;
}

std::uint32_t policy_flags(const Policy &policy) {
  return (policy.has_ip_filter() ? SANDBOX_POLICY_FILTER : 0u) |
         (policy.ip_accounting ? SANDBOX_POLICY_ACCOUNTING : 0u) |
         rule_flags(kernel_rules(policy.ip_allow, policy.ip_deny));
}

std::uint64_t build_id() { return IP_FILTER_BUILD_ID; }

Result<std::optional<ParentFilter>> ParentFilter::find(int parent_fd) {
  if (std::optional<FilterMaps> advertised = advertised_set(parent_fd))
    return std::optional<ParentFilter>(
        ParentFilter(std::make_shared<FilterMaps>(std::move(*advertised))));
  Result<std::vector<FoundProgram>> found = ours_attached(parent_fd, BPF_CGROUP_INET_EGRESS);
  if (!found)
    return found.error();
  for (FoundProgram &program : *found) {
    if (program.build != build_id() || !program.maps.deny4)
      continue;
    Result<std::optional<ProgramIds>> programs =
        whole_set(parent_fd, map_id_of(program.maps.deny4.get()));
    if (!programs)
      return programs.error();
    if (!*programs)
      continue;
    // The packet programs use every map but `policies`, which the hooks on socket calls
    // use: it comes from the set's connect4 program.
    if (std::optional<FoundProgram> connect4 = inspect((**programs)[0]))
      program.maps.policies = std::move(connect4->maps.policies);
    if (!complete(program.maps))
      continue;
    advertise(parent_fd, **programs, program.maps);
    return std::optional<ParentFilter>(
        ParentFilter(std::make_shared<FilterMaps>(std::move(program.maps))));
  }
  return std::optional<ParentFilter>();
}

Result<ParentFilter> ParentFilter::attach(int parent_fd, std::uint64_t parent_id, int run_level,
                                          bool runs_alive) {
  Result<std::optional<ParentFilter>> existing = find(parent_fd);
  if (!existing)
    return existing.error();
  std::uint32_t ours = *existing ? map_id_of((*existing)->maps().deny4.get()) : 0;
  RF_TRY(detach_other_programs(parent_fd, ours, runs_alive));
  if (*existing)
    return std::move(**existing);
  Result<std::shared_ptr<FilterMaps>> maps = load_and_attach(parent_fd, parent_id, run_level);
  if (!maps)
    return maps.error();
  return ParentFilter(std::move(*maps));
}

namespace {

// A run's `packet_state` entry: `flags` on every CPU, the rest zero.
Status write_packet_state(const FilterMaps &maps, std::uint64_t cgroup_id, std::uint32_t flags,
                          std::uint64_t update_flags) {
  Result<std::vector<sandbox_packet_state>> per_cpu = per_cpu_states();
  if (!per_cpu)
    return per_cpu.error();
  for (sandbox_packet_state &state : *per_cpu)
    state.flags = flags;
  int err = bpf_map_update_elem(maps.packet_state.get(), &cgroup_id, per_cpu->data(), update_flags);
  if (err < 0 && err != -EEXIST) // EEXIST: BPF_NOEXIST found the run's own entry
    return Error::from_errno("Failed to write the packet state of cgroup " +
                                 std::to_string(cgroup_id),
                             -err);
  return Ok{};
}

} // namespace

Result<RunFilter> ParentFilter::install(std::uint64_t cgroup_id, const Policy &policy) const {
  RunFilter run(maps_, cgroup_id, policy); // from here on, its destructor cleans up
  RF_TRY(write_rules(*maps_, cgroup_id, run.allow_, true));
  RF_TRY(write_rules(*maps_, cgroup_id, run.deny_, false));
  sandbox_run_refusals zero_refusals{};
  if (int err = bpf_map_update_elem(maps_->run_refusals.get(), &cgroup_id, &zero_refusals, BPF_ANY);
      err < 0)
    return Error::from_errno("Failed to create the run's refusal counters", -err);
  // Both entries carry the same flags: the packet programs read one, the socket calls' hooks
  // the other. Each lets its traffic through only once it exists.
  sandbox_policy entry{};
  entry.flags = policy_flags(policy);
  RF_TRY(write_packet_state(*maps_, cgroup_id, entry.flags, BPF_ANY));
  if (int err = bpf_map_update_elem(maps_->policies.get(), &cgroup_id, &entry, BPF_ANY); err < 0)
    return Error::from_errno("Failed to write the run's IP policy", -err);
  return run;
}

Status ParentFilter::admit(std::uint64_t cgroup_id) const {
  RF_TRY(write_packet_state(*maps_, cgroup_id, 0, BPF_NOEXIST));
  sandbox_policy pass_all{};
  if (int err = bpf_map_update_elem(maps_->policies.get(), &cgroup_id, &pass_all, BPF_NOEXIST);
      err < 0 && err != -EEXIST)
    return Error::from_errno("Failed to write a run's IP policy", -err);
  return Ok{};
}

Status ParentFilter::sweep(const std::set<std::uint64_t> &live) const {
  // Each map by its own keys: a supervisor killed between writing one run entry and the
  // next leaves some without the others.
  for (int map : {maps_->policies.get(), maps_->packet_state.get(), maps_->run_refusals.get()})
    sweep_run_entries(map, live);
  erase_denials(maps_->denials.get(), [&](std::uint64_t id) { return !live.count(id); });
  sweep_rules<ip4_rule_key>(maps_->allow4.get(), live);
  sweep_rules<ip4_rule_key>(maps_->deny4.get(), live);
  sweep_rules<ip6_rule_key>(maps_->allow6.get(), live);
  sweep_rules<ip6_rule_key>(maps_->deny6.get(), live);
  return Ok{};
}

RunFilter::RunFilter(std::shared_ptr<FilterMaps> maps, std::uint64_t cgroup_id,
                     const Policy &policy)
    : maps_(std::move(maps)), cgroup_id_(cgroup_id) {
  KernelRules rules = kernel_rules(policy.ip_allow, policy.ip_deny);
  allow_ = std::move(rules.allow);
  deny_ = std::move(rules.deny);
}

RunFilter::~RunFilter() {
  if (!maps_)
    return;
  // The entries first: without them the cgroup is refused everything, never opened up.
  bpf_map_delete_elem(maps_->policies.get(), &cgroup_id_);
  bpf_map_delete_elem(maps_->packet_state.get(), &cgroup_id_);
  erase_rules(*maps_, cgroup_id_, allow_, true);
  erase_rules(*maps_, cgroup_id_, deny_, false);
  // A run that was refused nothing has no entry in the shared table: no walk through it.
  bool refused = refusals().total > 0;
  bpf_map_delete_elem(maps_->run_refusals.get(), &cgroup_id_);
  if (refused)
    erase_denials(maps_->denials.get(), [&](std::uint64_t id) { return id == cgroup_id_; });
}

std::vector<Denial> RunFilter::denial_totals() const {
  std::vector<Denial> out;
  for_each_denial(maps_->denials.get(), [&](const sandbox_denial_key &key,
                                            const sandbox_denial &value) {
    if (key.cgroup != cgroup_id_ || value.count == 0)
      return;
    Denial d;
    d.kind = key.kind;
    d.family = key.family;
    d.protocol = key.protocol;
    d.port = key.port;
    std::memcpy(d.addr.data(), key.addr, sizeof key.addr);
    d.count = value.count;
    d.process = static_cast<pid_t>(key.tgid);
    d.pid = static_cast<pid_t>(key.tgid != 0 ? key.tgid : value.tgid);
    d.comm.assign(reinterpret_cast<const char *>(value.comm),
                  strnlen(reinterpret_cast<const char *>(value.comm), sizeof value.comm));
    d.local_port = value.local_port;
    std::memcpy(d.local_addr.data(), value.local_addr, sizeof value.local_addr);
    out.push_back(std::move(d));
  });
  return out;
}

RunFilter::Refusals RunFilter::refusals() const {
  sandbox_run_refusals value{};
  bpf_map_lookup_elem(maps_->run_refusals.get(), &cgroup_id_, &value);
  return {value.total, value.unattributed};
}

Result<IpCounters> RunFilter::counters() const {
  Result<std::vector<sandbox_packet_state>> per_cpu = per_cpu_states();
  if (!per_cpu)
    return per_cpu.error();
  if (int err = bpf_map_lookup_elem(maps_->packet_state.get(), &cgroup_id_, per_cpu->data());
      err < 0)
    return Error::from_errno("Failed to read the IPAccounting= counters", -err);
  IpCounters total;
  for (const sandbox_packet_state &state : *per_cpu) {
    const sandbox_counters &c = state.counters;
    total.dropped_ingress_packets += c.dropped_packets[SANDBOX_INGRESS];
    total.dropped_egress_packets += c.dropped_packets[SANDBOX_EGRESS];
    for (std::size_t slot = 0; slot < SANDBOX_SLOTS; ++slot) {
      total.ingress_bytes += c.bytes[SANDBOX_INGRESS][slot];
      total.ingress_packets += c.packets[SANDBOX_INGRESS][slot];
      total.egress_bytes += c.bytes[SANDBOX_EGRESS][slot];
      total.egress_packets += c.packets[SANDBOX_EGRESS][slot];
      total.protocol_bytes[slot] += c.bytes[SANDBOX_INGRESS][slot] + c.bytes[SANDBOX_EGRESS][slot];
      total.protocol_packets[slot] +=
          c.packets[SANDBOX_INGRESS][slot] + c.packets[SANDBOX_EGRESS][slot];
    }
  }
  return total;
}

} // namespace rf::netfilter
