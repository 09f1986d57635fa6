// Classic BPF as the kernel's seccomp runs it, for the seccomp tests: exactly the
// instructions of ringfence's filters (libseccomp 2.5.4's: loads of seccomp_data words, AND
// with a constant, constant comparisons, jumps, returns; and the bit test JSET, which
// seccomp::compact() adds). Anything else fails the test rather than being guessed at. Words
// are little-endian: an argument's low half comes first.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <optional>
#include <vector>

namespace rf::test {

// The action of a program for one call, and whether it read an argument (or the instruction
// pointer) on the way.
struct Verdict {
  std::uint32_t action = 0;
  bool read_arguments = false;
};

// nullopt, and a test failure, on an instruction it does not know or a program that runs
// off its end.
inline std::optional<Verdict> run_cbpf(const std::vector<sock_filter> &prog,
                                       const seccomp_data &data) {
  Verdict v;
  std::uint32_t a = 0;
  for (std::size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter &in = prog[pc];
    auto jump = [&](bool taken) { pc += taken ? in.jt : in.jf; };
    switch (in.code) {
    case BPF_LD | BPF_W | BPF_ABS:
      if (in.k % 4 != 0 || in.k + 4 > sizeof(data)) {
        ADD_FAILURE() << "instruction " << pc << " loads outside seccomp_data: " << in.k;
        return std::nullopt;
      }
      std::memcpy(&a, reinterpret_cast<const char *>(&data) + in.k, 4);
      v.read_arguments |= in.k >= offsetof(seccomp_data, instruction_pointer);
      break;
    case BPF_ALU | BPF_AND | BPF_K: a &= in.k; break;
    case BPF_JMP | BPF_JA: pc += in.k; break;
    case BPF_JMP | BPF_JEQ | BPF_K: jump(a == in.k); break;
    case BPF_JMP | BPF_JGT | BPF_K: jump(a > in.k); break;
    case BPF_JMP | BPF_JGE | BPF_K: jump(a >= in.k); break;
    case BPF_JMP | BPF_JSET | BPF_K: jump((a & in.k) != 0); break;
    case BPF_RET | BPF_K: v.action = in.k; return v;
    default:
      ADD_FAILURE() << "instruction " << pc << " has an opcode the interpreter does not know: 0x"
                    << std::hex << in.code;
      return std::nullopt;
    }
  }
  ADD_FAILURE() << "the program ran off its end";
  return std::nullopt;
}

} // namespace rf::test
