#include "seccomp/compact.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <linux/seccomp.h>
#include <map>
#include <set>
#include <tuple>

namespace rf::seccomp {
namespace {

constexpr std::uint32_t kAll = 0xffffffff;
constexpr std::uint32_t kNr = offsetof(seccomp_data, nr);
constexpr std::uint32_t kArch = offsetof(seccomp_data, arch);

constexpr std::uint16_t kLoad = BPF_LD | BPF_W | BPF_ABS;
constexpr std::uint16_t kAnd = BPF_ALU | BPF_AND | BPF_K;
constexpr std::uint16_t kJa = BPF_JMP | BPF_JA;
constexpr std::uint16_t kJeq = BPF_JMP | BPF_JEQ | BPF_K;
constexpr std::uint16_t kJgt = BPF_JMP | BPF_JGT | BPF_K;
constexpr std::uint16_t kJge = BPF_JMP | BPF_JGE | BPF_K;
constexpr std::uint16_t kJset = BPF_JMP | BPF_JSET | BPF_K;
constexpr std::uint16_t kRet = BPF_RET | BPF_K;

// Beyond this many steps of evaluation, the program is left as it is (a safeguard: libseccomp's
// programs take a few ten thousand, 34,000 for 2,063 instructions).
constexpr long kStepBudget = 1'000'000;

bool is_jump(std::uint16_t code) {
  return code == kJeq || code == kJgt || code == kJge || code == kJset;
}

bool holds(std::uint16_t code, std::uint32_t a, std::uint32_t k) {
  switch (code) {
  case kJeq: return a == k;
  case kJgt: return a > k;
  case kJge: return a >= k;
  default: return (a & k) != 0; // kJset
  }
}

// The least value at least `low` that has no bit outside `mask` (the least value the
// register can hold from `low` on, when it holds a word ANDed with `mask`); nullopt if none.
std::optional<std::uint32_t> least_within(std::uint32_t mask, std::uint32_t low) {
  std::uint32_t outside = low & ~mask;
  if (outside == 0)
    return low;
  // Set the lowest bit of `mask` that is clear in `low`, above its highest bit outside
  // `mask`, and clear every bit below it.
  for (int b = static_cast<int>(std::bit_width(outside)); b < 32; ++b) {
    std::uint32_t bit = std::uint32_t{1} << b;
    if ((mask & bit) && !(low & bit))
      return (low & ~((bit << 1) - 1)) | bit;
  }
  return std::nullopt;
}

// --- the rewritten program, as a graph ---------------------------------------------------

// A return, a load of a seccomp_data word, an AND, or a conditional jump. An AND or a jump
// expects the accumulator to hold the word at offset `word` ANDed with `reg`.
struct Node {
  std::uint16_t code = kRet;
  std::uint32_t k = 0;
  std::uint32_t word = 0, reg = 0;
  int next = -1;  // a load, an AND: what follows; a jump: where a true test goes
  int other = -1; // a jump: where a false test goes
};

// Equal nodes are one node, so that a tail that several paths share is emitted once.
class Graph {
public:
  const Node &operator[](int n) const { return nodes_[static_cast<std::size_t>(n)]; }
  bool is_ret(int n) const { return (*this)[n].code == kRet; }

  int ret(std::uint32_t action) { return add({kRet, action, 0, 0, -1, -1}); }

  // A load or an AND whose result nothing reads (a return or a load follows) is left out.
  int load(std::uint32_t word, int next) {
    if (is_ret(next) || (*this)[next].code == kLoad)
      return next;
    return add({kLoad, word, 0, 0, next, -1});
  }

  int mask(std::uint32_t word, std::uint32_t reg, std::uint32_t m, int next) {
    if (is_ret(next) || (*this)[next].code == kLoad)
      return next;
    return add({kAnd, m, word, reg, next, -1});
  }

  int jump(std::uint16_t code, std::uint32_t k, std::uint32_t word, std::uint32_t reg, int yes,
           int no) {
    if (yes == no)
      return yes;
    // Bit tests of one value that go to the same place on a set bit: one test of all bits.
    Node after = (*this)[no];
    if (code == kJset && after.code == kJset && after.word == word && after.reg == reg &&
        after.next == yes)
      return jump(kJset, k | after.k, word, reg, yes, after.other);
    return add({code, k, word, reg, yes, no});
  }

private:
  int add(const Node &n) {
    auto [it, inserted] = index_.try_emplace(std::make_tuple(n.code, n.k, n.word, n.reg, n.next,
                                                             n.other),
                                             static_cast<int>(nodes_.size()));
    if (inserted)
      nodes_.push_back(n);
    return it->second;
  }

  std::vector<Node> nodes_;
  std::map<std::tuple<std::uint16_t, std::uint32_t, std::uint32_t, std::uint32_t, int, int>, int>
      index_;
};

// From `begin` on, values go to `node` (up to the next range's begin).
struct Range {
  std::uint32_t begin;
  int node;
};

// A binary search over ranges of the value in the register (the word at `word` ANDed with
// `reg`): JGE at each split. The split divides the ranges' weights (their count if none are
// given) as evenly as it can.
int search_tree(Graph &graph, std::uint32_t word, std::uint32_t reg,
                const std::vector<Range> &ranges, const std::vector<double> &weights,
                std::size_t begin, std::size_t end) {
  if (end - begin == 1)
    return ranges[begin].node;
  std::size_t mid = begin + (end - begin) / 2;
  if (!weights.empty()) {
    double total = 0, below = 0, best = -1;
    for (std::size_t i = begin; i < end; ++i)
      total += weights[i];
    for (std::size_t m = begin + 1; m < end; ++m) {
      below += weights[m - 1];
      double imbalance = below * 2 > total ? below * 2 - total : total - below * 2;
      if (best < 0 || imbalance < best) {
        best = imbalance;
        mid = m;
      }
    }
  }
  int high = search_tree(graph, word, reg, ranges, weights, mid, end);
  int low = search_tree(graph, word, reg, ranges, weights, begin, mid);
  return graph.jump(kJge, ranges[mid].begin, word, reg, high, low);
}

// The weight of each range of syscall numbers in the search: how many numbers of the syscall
// tables (below 512) it holds, plus one half. When it loads a filter, the kernel runs it once
// for each number of the native table and of the compat one (to fill its action cache, in
// seccomp_cache_prepare()), so that the depth of those numbers costs every load; a range
// past the tables costs only the calls made with its numbers.
std::vector<double> number_weights(const std::vector<Range> &ranges) {
  constexpr std::uint64_t kTables = 512;
  std::vector<double> weights;
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    std::uint64_t begin = ranges[i].begin;
    std::uint64_t end = i + 1 < ranges.size() ? ranges[i + 1].begin : std::uint64_t{1} << 32;
    weights.push_back(static_cast<double>(std::min(end, kTables) - std::min(begin, kTables)) +
                      0.5);
  }
  return weights;
}

// Ranges of syscall numbers, with the few single numbers that interrupt a range (a denied call
// among allowed ones, one with argument rules) tested for equality on the way to the range's
// node instead of splitting it: one JEQ instead of two boundaries. At most kExceptions per
// range, to keep the paths short.
std::vector<Range> with_exceptions(Graph &graph, const std::vector<Range> &ranges) {
  constexpr std::size_t kExceptions = 3;
  struct Span {
    std::uint32_t begin, end;
    int node;
    std::vector<Range> exceptions; // a single number each
  };
  std::vector<Span> spans;
  for (std::size_t i = 0; i < ranges.size(); ++i)
    spans.push_back({ranges[i].begin, i + 1 < ranges.size() ? ranges[i + 1].begin - 1 : kAll,
                     ranges[i].node, {}});
  auto single = [&](std::size_t i) {
    return spans[i].begin == spans[i].end && spans[i].exceptions.empty();
  };
  for (bool merged = true; merged;) {
    merged = false;
    for (std::size_t i = 1; i + 1 < spans.size(); ++i)
      for (std::size_t count : {1, 2}) { // one or two single numbers between alike ranges
        std::size_t after = i + count;
        if (after >= spans.size() || !single(i) || (count == 2 && !single(i + 1)) ||
            spans[i - 1].node != spans[after].node ||
            spans[i - 1].exceptions.size() + spans[after].exceptions.size() + count > kExceptions)
          continue;
        Span &into = spans[i - 1];
        for (std::size_t j = i; j < after; ++j)
          into.exceptions.push_back({spans[j].begin, spans[j].node});
        into.exceptions.insert(into.exceptions.end(), spans[after].exceptions.begin(),
                               spans[after].exceptions.end());
        into.end = spans[after].end;
        spans.erase(spans.begin() + static_cast<std::ptrdiff_t>(i),
                    spans.begin() + static_cast<std::ptrdiff_t>(after + 1));
        merged = true;
        break;
      }
  }
  std::vector<Range> result;
  for (const Span &span : spans) {
    int node = span.node;
    for (auto it = span.exceptions.rbegin(); it != span.exceptions.rend(); ++it)
      node = graph.jump(kJeq, it->begin, kNr, kAll, it->node, node);
    result.push_back({span.begin, node});
  }
  return result;
}

// The comparisons of one argument value reached from `root` (JEQ, JGT, JGE of the same
// register), rebuilt as a binary search over the ranges between their constants when that
// is shorter: libseccomp compares socket()'s family with each refused family in turn.
int as_search(Graph &graph, int root) {
  const Node top = graph[root];
  if (top.code == kRet || top.code == kLoad || top.code == kAnd || top.code == kJset)
    return root;
  auto same_value = [&](int n) {
    const Node &node = graph[n];
    return is_jump(node.code) && node.code != kJset && node.word == top.word &&
           node.reg == top.reg;
  };
  std::set<int> region;
  std::set<std::uint32_t> starts{0};
  std::vector<int> todo{root};
  while (!todo.empty()) {
    int n = todo.back();
    todo.pop_back();
    if (!region.insert(n).second)
      continue;
    starts.insert(graph[n].k);
    if (graph[n].k != kAll)
      starts.insert(graph[n].k + 1);
    for (int next : {graph[n].next, graph[n].other})
      if (same_value(next))
        todo.push_back(next);
  }
  if (region.size() < 2)
    return root;
  auto exit_for = [&](std::uint32_t value) {
    int n = root;
    while (same_value(n))
      n = holds(graph[n].code, value, graph[n].k) ? graph[n].next : graph[n].other;
    return n;
  };
  std::vector<Range> ranges;
  for (auto it = starts.begin(); it != starts.end(); ++it) {
    auto following = std::next(it);
    std::uint32_t last = following == starts.end() ? kAll : *following - 1;
    std::optional<std::uint32_t> value = least_within(top.reg, *it);
    if (!value || *value > last)
      continue; // the register never holds a value of this range
    int exit = exit_for(*value);
    if (ranges.empty() || ranges.back().node != exit)
      ranges.push_back({*it, exit});
  }
  if (ranges.size() - 1 >= region.size())
    return root;
  return search_tree(graph, top.word, top.reg, ranges, {}, 0, ranges.size());
}

// --- evaluation of the original program for one ABI and syscall number ----------------

enum class Origin : std::uint8_t { literal, nr, arch };

// The accumulator at a point of the original program: a value known on the path, or a word
// of seccomp_data that is not (an argument, the instruction pointer). Then A is that word
// ANDed with `mask`, and the register of the rewritten program holds the word ANDed with
// `reg`, which has at least the bits of `mask` not yet known.
struct Acc {
  bool known = true;
  Origin origin = Origin::literal;
  std::uint32_t value = 0;
  std::uint32_t word = 0, reg = 0, mask = 0;
};

Acc constant(std::uint32_t value, Origin origin) { return {true, origin, value, 0, 0, 0}; }

// Bits of a word known on a path, from the tests it passed.
struct Bits {
  std::uint32_t word = 0, zeros = 0, ones = 0;
};
using Facts = std::vector<Bits>; // sorted by word

Bits bits_of(const Facts &facts, std::uint32_t word) {
  for (const Bits &b : facts)
    if (b.word == word)
      return b;
  return {word, 0, 0};
}

Facts with(Facts facts, std::uint32_t word, std::uint32_t zeros, std::uint32_t ones) {
  auto it = std::find_if(facts.begin(), facts.end(), [&](const Bits &b) { return b.word >= word; });
  if (it == facts.end() || it->word != word)
    it = facts.insert(it, Bits{word, 0, 0});
  it->zeros |= zeros;
  it->ones |= ones;
  return facts;
}

class Evaluator {
public:
  Evaluator(const std::vector<sock_filter> &program, Graph &graph)
      : program_(program), graph_(graph) {}

  // What the program does for this ABI and number, as a node; -1 if it cannot be rewritten.
  int residual(std::uint32_t arch, std::uint32_t nr) {
    arch_ = arch;
    nr_ = nr;
    memo_.clear();
    return eval(0, Acc{}, {});
  }

  // The values the ABI word was compared with, in the order they were met.
  const std::vector<std::uint32_t> &arch_constants() const { return arch_constants_; }

private:
  int fail() {
    failed_ = true;
    return -1;
  }

  int eval(std::size_t pc, const Acc &a, const Facts &facts) {
    if (failed_ || pc >= program_.size() || ++steps_ > kStepBudget)
      return fail();
    std::vector<std::uint32_t> key{static_cast<std::uint32_t>(pc), a.known,
                                   static_cast<std::uint32_t>(a.origin), a.value, a.word, a.reg,
                                   a.mask};
    for (const Bits &b : facts)
      key.insert(key.end(), {b.word, b.zeros, b.ones});
    if (auto it = memo_.find(key); it != memo_.end())
      return it->second;
    int node = step(pc, a, facts);
    if (failed_)
      return -1;
    memo_.emplace(std::move(key), node);
    return node;
  }

  int step(std::size_t pc, const Acc &a, const Facts &facts) {
    const sock_filter &in = program_[pc];
    switch (in.code) {
    case kRet: return graph_.ret(in.k);
    case kJa: return eval(pc + 1 + in.k, a, facts);
    case kLoad: return load(pc, in.k, a, facts);
    case kAnd: return and_mask(pc, in.k, a, facts);
    case kJeq:
    case kJgt:
    case kJge:
    case kJset: return jump(pc, in, a, facts);
    default: return fail(); // not an instruction libseccomp emits
    }
  }

  int load(std::size_t pc, std::uint32_t k, const Acc &a, const Facts &facts) {
    if (k == kNr)
      return eval(pc + 1, constant(nr_, Origin::nr), facts);
    if (k == kArch)
      return eval(pc + 1, constant(arch_, Origin::arch), facts);
    if (k % 4 != 0 || k >= sizeof(seccomp_data))
      return fail();
    int next = eval(pc + 1, Acc{false, Origin::literal, 0, k, kAll, kAll}, facts);
    if (failed_)
      return -1;
    bool in_register = !a.known && a.word == k && a.reg == kAll;
    return in_register ? next : graph_.load(k, next);
  }

  int and_mask(std::size_t pc, std::uint32_t k, const Acc &a, const Facts &facts) {
    if (a.known) {
      if (a.origin != Origin::literal)
        return fail(); // bits of the number or ABI: its ranges would not be ranges
      return eval(pc + 1, constant(a.value & k, Origin::literal), facts);
    }
    Bits b = bits_of(facts, a.word);
    std::uint32_t m = a.mask & k;
    if ((m & ~(b.zeros | b.ones)) == 0)
      return eval(pc + 1, constant(b.ones & m, Origin::literal), facts);
    Acc masked = a;
    masked.mask = m;
    return eval(pc + 1, masked, facts);
  }

  int jump(std::size_t pc, const sock_filter &in, const Acc &a, const Facts &facts) {
    std::size_t yes = pc + 1 + in.jt, no = pc + 1 + in.jf;
    if (a.known) {
      if (a.origin == Origin::arch) {
        if (in.code != kJeq)
          return fail(); // only equality keeps "any other ABI" one case
        if (std::find(arch_constants_.begin(), arch_constants_.end(), in.k) ==
            arch_constants_.end())
          arch_constants_.push_back(in.k);
      }
      if (a.origin == Origin::nr && in.code == kJset)
        return fail();
      return eval(holds(in.code, a.value, in.k) ? yes : no, a, facts);
    }
    Bits b = bits_of(facts, a.word);
    std::uint32_t known = (b.zeros | b.ones) & a.mask;
    if (known == a.mask)
      return eval(holds(in.code, b.ones & a.mask, in.k) ? yes : no, a, facts);
    if (in.code == kJset)
      return bit_test(in.k, yes, no, a, facts, b);
    if (in.code == kJeq)
      return equal_test(in.k, yes, no, a, facts, b);
    return range_test(in.code, in.k, yes, no, a, facts);
  }

  // JSET k: one bit test of the bits not known yet.
  int bit_test(std::uint32_t k, std::size_t yes, std::size_t no, const Acc &a,
               const Facts &facts, const Bits &b) {
    if (b.ones & a.mask & k)
      return eval(yes, a, facts);
    std::uint32_t u = a.mask & k & ~(b.zeros | b.ones);
    if (u == 0)
      return eval(no, a, facts);
    int set = eval(yes, a, facts);
    int clear = eval(no, a, with(facts, a.word, u, 0));
    if (failed_)
      return -1;
    return graph_.jump(kJset, u, a.word, a.reg, set, clear);
  }

  // JEQ k: (word & mask) == k. libseccomp's masked comparisons are mostly "these bits all
  // clear" or "this bit set", each one bit test; the rest AND the register with the bits not
  // known yet and compare.
  int equal_test(std::uint32_t k, std::size_t yes, std::size_t no, const Acc &a,
                 const Facts &facts, const Bits &b) {
    if ((k & ~a.mask) || (k & b.zeros & a.mask) || (~k & b.ones & a.mask))
      return eval(no, a, facts);
    std::uint32_t u = a.mask & ~(b.zeros | b.ones), v = k & u;
    Facts equal = with(facts, a.word, u & ~v, u & v);
    bool one_bit = std::has_single_bit(u);
    if (v == 0) {
      int zero = eval(yes, a, equal);
      int nonzero = eval(no, a, one_bit ? with(facts, a.word, 0, u) : facts);
      if (failed_)
        return -1;
      if (a.reg == u)
        return as_search(graph_, graph_.jump(kJeq, 0, a.word, a.reg, zero, nonzero));
      return graph_.jump(kJset, u, a.word, a.reg, nonzero, zero);
    }
    if (v == u && one_bit) {
      int set = eval(yes, a, equal);
      int clear = eval(no, a, with(facts, a.word, u, 0));
      if (failed_)
        return -1;
      return graph_.jump(kJset, u, a.word, a.reg, set, clear);
    }
    Acc masked = a;
    masked.reg = u;
    int same = eval(yes, masked, equal);
    int different = eval(no, masked, facts);
    if (failed_)
      return -1;
    int test = as_search(graph_, graph_.jump(kJeq, v, a.word, u, same, different));
    return a.reg == u ? test : graph_.mask(a.word, a.reg, u, test);
  }

  // JGT, JGE: the register must hold A exactly.
  int range_test(std::uint16_t code, std::uint32_t k, std::size_t yes, std::size_t no,
                 const Acc &a, const Facts &facts) {
    Acc exact = a;
    exact.reg = a.mask;
    int above = eval(yes, exact, facts);
    int below = eval(no, exact, facts);
    if (failed_)
      return -1;
    int test = as_search(graph_, graph_.jump(code, k, a.word, a.mask, above, below));
    if (a.reg == a.mask)
      return test;
    if ((a.mask & ~a.reg) == 0)
      return graph_.mask(a.word, a.reg, a.mask, test);
    // The register lost bits that were known: load the word again.
    int masked = a.mask == kAll ? test : graph_.mask(a.word, kAll, a.mask, test);
    return graph_.load(a.word, masked);
  }

  const std::vector<sock_filter> &program_;
  Graph &graph_;
  std::uint32_t arch_ = 0, nr_ = 0;
  std::map<std::vector<std::uint32_t>, int> memo_;
  std::vector<std::uint32_t> arch_constants_;
  long steps_ = 0;
  bool failed_ = false;
};

// --- layout --------------------------------------------------------------------------------

// The order of the nodes: each followed by one of its successors where it can be (the kernel
// turns a conditional jump that falls through into one eBPF instruction, else into two), and
// after every ~200 of them, the returns they jump to: a conditional jump reaches 255
// instructions forward. A jump further than that goes through a JA right after it.
class Layout {
public:
  Layout(const Graph &graph, int root) : graph_(graph) {
    constexpr std::size_t kChunk = 200;
    std::vector<int> returns; // of the current chunk
    std::size_t chunk = 0, in_chunk = 0;
    auto flush = [&]() {
      for (int r : returns)
        place(r, chunk);
      returns.clear();
      ++chunk;
      in_chunk = 0;
    };
    for (int n : reverse_postorder(root)) {
      if (graph_.is_ret(n) && n != root)
        continue;
      place(n, kBody);
      slots_.back().chunk = chunk;
      const Node &node = graph_[n];
      for (int next : {node.next, node.other})
        if (next >= 0 && graph_.is_ret(next) &&
            std::find(returns.begin(), returns.end(), next) == returns.end())
          returns.push_back(next);
      if (++in_chunk + returns.size() >= kChunk)
        flush();
    }
    flush();
    for (Slot &slot : slots_) {
      const Node &node = graph_[slot.node];
      if (node.code != kRet && slot.pool == kBody) {
        slot.yes = slot_of(node.next, slot.chunk);
        if (is_jump(node.code))
          slot.no = slot_of(node.other, slot.chunk);
      }
    }
  }

  std::optional<std::vector<sock_filter>> emit() const {
    for (const Slot &slot : slots_) {
      std::uint16_t code = graph_[slot.node].code;
      if (code != kRet &&
          (slot.yes == kNone || (is_jump(code) && slot.no == kNone)))
        return std::nullopt;
    }
    std::set<std::pair<std::size_t, bool>> far; // (slot, true side): through a JA
    std::vector<std::size_t> at;
    for (bool grew = true; grew;) {
      at = positions(far);
      grew = false;
      for (std::size_t s = 0; s < slots_.size(); ++s) {
        if (!is_jump(graph_[slots_[s].node].code))
          continue;
        for (bool side : {true, false}) {
          std::size_t to = side ? slots_[s].yes : slots_[s].no;
          if (to <= s)
            return std::nullopt; // not forward: cannot happen in reverse postorder
          if (at[to] - at[s] - 1 > 255 && far.insert({s, side}).second)
            grew = true;
        }
      }
    }
    std::vector<sock_filter> program;
    auto add = [&](std::uint16_t code, std::uint32_t k, std::size_t jt = 0, std::size_t jf = 0) {
      program.push_back(
          sock_filter{code, static_cast<std::uint8_t>(jt), static_cast<std::uint8_t>(jf), k});
    };
    auto ja = [&](std::size_t to) {
      add(kJa, static_cast<std::uint32_t>(at[to] - program.size() - 1));
    };
    for (std::size_t s = 0; s < slots_.size(); ++s) {
      const Slot &slot = slots_[s];
      const Node &node = graph_[slot.node];
      if (node.code == kRet) {
        add(kRet, node.k);
      } else if (!is_jump(node.code)) { // a load, an AND
        add(node.code, node.k);
        if (slot.yes != s + 1)
          ja(slot.yes);
      } else {
        bool far_yes = far.count({s, true}) > 0, far_no = far.count({s, false}) > 0;
        std::size_t jt = far_yes ? 0 : at[slot.yes] - at[s] - 1;
        std::size_t jf = far_no ? (far_yes ? 1 : 0) : at[slot.no] - at[s] - 1;
        add(node.code, node.k, jt, jf);
        if (far_yes)
          ja(slot.yes);
        if (far_no)
          ja(slot.no);
      }
      if (program.size() != at[s + 1])
        return std::nullopt;
    }
    return program;
  }

private:
  static constexpr std::size_t kNone = ~std::size_t{0};
  static constexpr std::size_t kBody = ~std::size_t{0}; // Slot::pool of a node in the order
  struct Slot {
    int node;
    std::size_t pool;      // kBody, or the chunk whose returns this one is among
    std::size_t chunk = 0; // a node in the order: the chunk it is in
    std::size_t yes = kNone, no = kNone; // the slots of the successors
  };

  void place(int n, std::size_t pool) {
    index_.emplace(std::make_pair(n, pool), slots_.size());
    slots_.push_back({n, pool});
  }

  // The slot of a successor of a node in `chunk`: a return is among that chunk's.
  std::size_t slot_of(int n, std::size_t chunk) const {
    auto it = index_.find({n, graph_.is_ret(n) ? chunk : kBody});
    return it == index_.end() ? kNone : it->second;
  }

  // Reverse postorder, the successor to fall through to visited last.
  std::vector<int> reverse_postorder(int root) const {
    std::set<int> seen{root};
    std::vector<std::pair<int, std::size_t>> stack{{root, 0}}; // node, successors visited
    std::vector<int> post;
    while (!stack.empty()) {
      int n = stack.back().first;
      const Node &node = graph_[n];
      std::vector<int> successors;
      if (node.code == kLoad || node.code == kAnd)
        successors = {node.next};
      else if (is_jump(node.code))
        successors = graph_.is_ret(node.other) ? std::vector<int>{node.other, node.next}
                                               : std::vector<int>{node.next, node.other};
      std::size_t &visited = stack.back().second;
      if (visited < successors.size()) {
        int next = successors[visited++];
        if (seen.insert(next).second)
          stack.push_back({next, 0});
        continue;
      }
      post.push_back(n);
      stack.pop_back();
    }
    return {post.rbegin(), post.rend()};
  }

  // Where each slot starts (and, last, the end), given which jumps go through a JA.
  std::vector<std::size_t> positions(const std::set<std::pair<std::size_t, bool>> &far) const {
    std::vector<std::size_t> at(slots_.size() + 1, 0);
    for (std::size_t s = 0; s < slots_.size(); ++s) {
      const Node &node = graph_[slots_[s].node];
      std::size_t size = 1;
      if (node.code != kRet) {
        if (!is_jump(node.code))
          size += slots_[s].yes == s + 1 ? 0 : 1;
        else
          size += far.count({s, true}) + far.count({s, false});
      }
      at[s + 1] = at[s] + size;
    }
    return at;
  }

  const Graph &graph_;
  std::vector<Slot> slots_;
  std::map<std::pair<int, std::size_t>, std::size_t> index_;
};

// --- a check of the result --------------------------------------------------------------

// The action of a program of the instructions above for one input; nullopt if it is not one.
std::optional<std::uint32_t> run(const std::vector<sock_filter> &program, const seccomp_data &d) {
  std::uint32_t a = 0;
  for (std::size_t pc = 0; pc < program.size(); ++pc) {
    const sock_filter &in = program[pc];
    if (in.code == kRet)
      return in.k;
    if (in.code == kLoad) {
      if (in.k % 4 != 0 || in.k >= sizeof d)
        return std::nullopt;
      std::memcpy(&a, reinterpret_cast<const char *>(&d) + in.k, sizeof a);
    } else if (in.code == kAnd) {
      a &= in.k;
    } else if (in.code == kJa) {
      pc += in.k;
    } else if (is_jump(in.code)) {
      pc += holds(in.code, a, in.k) ? in.jt : in.jf;
    } else {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// A syscall number of an ABI to try both programs on; `arguments`: the program tests them.
struct Probe {
  std::uint32_t arch, nr;
  bool arguments;
};

// Both programs give the same action at the start of every range of syscall numbers, for
// every ABI, with the arguments all clear and all set, and where the program tests arguments,
// with arguments drawn from the constants it compares with. A sample, not a proof: it catches
// a mistake of the layout. That each rewritten path is the original's, less the tests whose
// outcome the path has decided already, is by construction; the tests compare the two
// programs over every number and ABI with arguments from every constant, on policies and on
// fuzzed programs.
bool same_actions(const std::vector<sock_filter> &a, const std::vector<sock_filter> &b,
                  const std::vector<Probe> &probes, const std::set<std::uint32_t> &constants) {
  std::vector<std::uint32_t> values{0, kAll};
  for (std::uint32_t c : constants)
    values.insert(values.end(), {c, c + 1, c - 1, ~c});
  std::uint64_t random = 0x9e3779b97f4a7c15;
  auto pick = [&]() {
    random ^= random << 13;
    random ^= random >> 7;
    random ^= random << 17;
    return std::uint64_t{values[random % values.size()]};
  };
  for (const Probe &probe : probes)
    for (int pattern = 0; pattern < (probe.arguments ? 66 : 2); ++pattern) {
      seccomp_data d{};
      d.nr = static_cast<int>(probe.nr);
      d.arch = probe.arch;
      for (auto &arg : d.args)
        arg = pattern == 0 ? 0 : pattern == 1 ? ~std::uint64_t{0} : pick() << 32 | pick();
      if (pattern > 1)
        d.instruction_pointer = pick() << 32 | pick();
      std::optional<std::uint32_t> x = run(a, d), y = run(b, d);
      if (!x || !y || *x != *y)
        return false;
    }
  return true;
}

} // namespace

std::optional<std::vector<sock_filter>> compact(const std::vector<sock_filter> &program) {
  if (program.empty() || program.size() > BPF_MAXINSNS)
    return std::nullopt;
  // The program treats every syscall number between two of the constants it compares with
  // alike (it only compares the number for equality and order), and every ABI it compares
  // with none of alike: one representative of each.
  std::set<std::uint32_t> constants, starts{0};
  for (const sock_filter &in : program)
    if (is_jump(in.code))
      constants.insert(in.k);
  for (std::uint32_t c : constants) {
    starts.insert(c);
    if (c != kAll)
      starts.insert(c + 1);
  }
  std::uint32_t other_abi = 0;
  while (constants.count(other_abi))
    ++other_abi;

  Graph graph;
  Evaluator evaluator(program, graph);
  std::vector<std::uint32_t> archs{other_abi};
  std::vector<int> sections;
  std::vector<Probe> probes;
  for (std::size_t i = 0; i < archs.size(); ++i) {
    std::vector<Range> ranges;
    for (std::uint32_t nr : starts) {
      int node = evaluator.residual(archs[i], nr);
      if (node < 0)
        return std::nullopt;
      probes.push_back({archs[i], nr, !graph.is_ret(node)});
      if (ranges.empty() || ranges.back().node != node)
        ranges.push_back({nr, node});
    }
    if (ranges.size() == 1) {
      sections.push_back(ranges[0].node);
    } else {
      ranges = with_exceptions(graph, ranges);
      sections.push_back(graph.load(
          kNr, search_tree(graph, kNr, kAll, ranges, number_weights(ranges), 0, ranges.size())));
    }
    for (std::uint32_t arch : evaluator.arch_constants())
      if (std::find(archs.begin(), archs.end(), arch) == archs.end())
        archs.push_back(arch);
  }
  int root = sections[0]; // any ABI the program does not name
  for (std::size_t i = archs.size(); i-- > 1;)
    root = graph.jump(kJeq, archs[i], kArch, kAll, sections[i], root);
  root = graph.load(kArch, root);

  std::optional<std::vector<sock_filter>> result = Layout(graph, root).emit();
  if (!result || result->size() >= program.size() ||
      !same_actions(program, *result, probes, constants))
    return std::nullopt;
  return result;
}

} // namespace rf::seccomp
