// The generated ip_filter skeleton, for C++. Include this, never the .skel.h.
//
// bpftool 7.1 emits C-style casts in the skeleton's C++ members, which our
// -Wold-style-cast -Werror rejects; the header is generated, so the warning
// is silenced here, around it only.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include "ip_filter.skel.h"
#pragma GCC diagnostic pop
