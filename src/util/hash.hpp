// FNV-1a, 64 bits: a stable hash of bytes (cache keys; tools/bpf-build-id hashes the BPF
// objects the same way at build time).
#pragma once

#include <cstddef>
#include <cstdint>

namespace rf {

inline std::uint64_t fnv1a(const void *data, std::size_t size) {
  const auto *bytes = static_cast<const unsigned char *>(data);
  std::uint64_t hash = 14695981039346656037ull;
  for (std::size_t i = 0; i < size; ++i)
    hash = (hash ^ bytes[i]) * 1099511628211ull;
  return hash;
}

} // namespace rf
