// The embedded syscall_trace object, inspected without loading it (no root needed).
#include "audit/trace_set.hpp"
#include "util/hash.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast" // bpftool's C-style casts
#include "syscall_trace.skel.h"
#pragma GCC diagnostic pop

#include <gtest/gtest.h>

namespace rf::audit {
namespace {

// Hashed at build time (tools/bpf-build-id): it must name the object this binary embeds.
TEST(TraceObject, BuildIdIsTheHashOfTheEmbeddedObject) {
  std::size_t size = 0;
  const void *bytes = syscall_trace::elf_bytes(&size);
  EXPECT_EQ(trace_build_id(), fnv1a(bytes, size));
  EXPECT_NE(trace_build_id(), 0u);
}

} // namespace
} // namespace rf::audit
