#include "util/clone3.hpp"

#include <sys/syscall.h>

#ifndef __x86_64__
#error "clone3_with_entry() below is written for x86-64"
#endif

namespace rf {

// glibc has no clone3 wrapper, and with CLONE_VM the child cannot return through the C++
// frames of a syscall() call, so the child's first instructions are written out here.
long clone3_with_entry(clone_args *args, void (*entry)(void *), void *arg) {
  register long rax __asm__("rax") = SYS_clone3;
  register clone_args *rdi __asm__("rdi") = args;
  register long rsi __asm__("rsi") = sizeof *args;
  register void (*r12)(void *) __asm__("r12") = entry; // kept across syscall
  register void *r13 __asm__("r13") = arg;
  __asm__ volatile("syscall\n\t"
                   "test %%rax, %%rax\n\t"
                   "jnz 1f\n\t"
                   "xor %%ebp, %%ebp\n\t" // the child: outermost frame, on its new stack
                   "mov %%r13, %%rdi\n\t"
                   "call *%%r12\n\t"
                   "ud2\n" // entry() does not return
                   "1:\n\t"
                   : "+r"(rax)
                   : "r"(rdi), "r"(rsi), "r"(r12), "r"(r13)
                   : "rcx", "r11", "memory", "cc");
  return rax;
}


} // namespace rf
