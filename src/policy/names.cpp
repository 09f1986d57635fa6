#include "policy/names.hpp"

#include <linux/capability.h>
#include <sched.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <charconv>

namespace rf::names {
namespace {

struct NameValue {
  std::string_view name;
  int value;
};

// ASCII-only folding: the names are ASCII, and std::tolower depends on the locale.
constexpr char fold(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

constexpr bool equal_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (fold(a[i]) != fold(b[i]))
      return false;
  return true;
}

template <std::size_t N>
std::optional<int> lookup_ignore_case(const std::array<NameValue, N> &table, std::string_view name) {
  for (const auto &entry : table)
    if (equal_ignore_case(entry.name, name))
      return entry.value;
  return std::nullopt;
}

// The first entry with a value is its canonical name, so aliases follow the name they alias.
template <std::size_t N>
std::string_view lookup_value(const std::array<NameValue, N> &table, int value) {
  for (const auto &entry : table)
    if (entry.value == value)
      return entry.name;
  return {};
}

// Names come from the macros themselves, so a value can never disagree with its header.
#define RF_NAME(sym) NameValue{#sym, sym}

// Every errno glibc's <errno.h> defines on Linux (asm-generic/errno{,-base}.h), in numeric
// order. Aliases come right after their canonical name.
constexpr std::array kErrnos = {
    RF_NAME(EPERM), RF_NAME(ENOENT), RF_NAME(ESRCH), RF_NAME(EINTR), RF_NAME(EIO),
    RF_NAME(ENXIO), RF_NAME(E2BIG), RF_NAME(ENOEXEC), RF_NAME(EBADF), RF_NAME(ECHILD),
    RF_NAME(EAGAIN), RF_NAME(EWOULDBLOCK), RF_NAME(ENOMEM), RF_NAME(EACCES), RF_NAME(EFAULT),
    RF_NAME(ENOTBLK), RF_NAME(EBUSY), RF_NAME(EEXIST), RF_NAME(EXDEV), RF_NAME(ENODEV),
    RF_NAME(ENOTDIR), RF_NAME(EISDIR), RF_NAME(EINVAL), RF_NAME(ENFILE), RF_NAME(EMFILE),
    RF_NAME(ENOTTY), RF_NAME(ETXTBSY), RF_NAME(EFBIG), RF_NAME(ENOSPC), RF_NAME(ESPIPE),
    RF_NAME(EROFS), RF_NAME(EMLINK), RF_NAME(EPIPE), RF_NAME(EDOM), RF_NAME(ERANGE),
    RF_NAME(EDEADLK), RF_NAME(EDEADLOCK), RF_NAME(ENAMETOOLONG), RF_NAME(ENOLCK),
    RF_NAME(ENOSYS), RF_NAME(ENOTEMPTY), RF_NAME(ELOOP), RF_NAME(ENOMSG), RF_NAME(EIDRM),
    RF_NAME(ECHRNG), RF_NAME(EL2NSYNC), RF_NAME(EL3HLT), RF_NAME(EL3RST), RF_NAME(ELNRNG),
    RF_NAME(EUNATCH), RF_NAME(ENOCSI), RF_NAME(EL2HLT), RF_NAME(EBADE), RF_NAME(EBADR),
    RF_NAME(EXFULL), RF_NAME(ENOANO), RF_NAME(EBADRQC), RF_NAME(EBADSLT), RF_NAME(EBFONT),
    RF_NAME(ENOSTR), RF_NAME(ENODATA), RF_NAME(ETIME), RF_NAME(ENOSR), RF_NAME(ENONET),
    RF_NAME(ENOPKG), RF_NAME(EREMOTE), RF_NAME(ENOLINK), RF_NAME(EADV), RF_NAME(ESRMNT),
    RF_NAME(ECOMM), RF_NAME(EPROTO), RF_NAME(EMULTIHOP), RF_NAME(EDOTDOT), RF_NAME(EBADMSG),
    RF_NAME(EOVERFLOW), RF_NAME(ENOTUNIQ), RF_NAME(EBADFD), RF_NAME(EREMCHG),
    RF_NAME(ELIBACC), RF_NAME(ELIBBAD), RF_NAME(ELIBSCN), RF_NAME(ELIBMAX), RF_NAME(ELIBEXEC),
    RF_NAME(EILSEQ), RF_NAME(ERESTART), RF_NAME(ESTRPIPE), RF_NAME(EUSERS), RF_NAME(ENOTSOCK),
    RF_NAME(EDESTADDRREQ), RF_NAME(EMSGSIZE), RF_NAME(EPROTOTYPE), RF_NAME(ENOPROTOOPT),
    RF_NAME(EPROTONOSUPPORT), RF_NAME(ESOCKTNOSUPPORT), RF_NAME(EOPNOTSUPP), RF_NAME(ENOTSUP),
    RF_NAME(EPFNOSUPPORT), RF_NAME(EAFNOSUPPORT), RF_NAME(EADDRINUSE), RF_NAME(EADDRNOTAVAIL),
    RF_NAME(ENETDOWN), RF_NAME(ENETUNREACH), RF_NAME(ENETRESET), RF_NAME(ECONNABORTED),
    RF_NAME(ECONNRESET), RF_NAME(ENOBUFS), RF_NAME(EISCONN), RF_NAME(ENOTCONN),
    RF_NAME(ESHUTDOWN), RF_NAME(ETOOMANYREFS), RF_NAME(ETIMEDOUT), RF_NAME(ECONNREFUSED),
    RF_NAME(EHOSTDOWN), RF_NAME(EHOSTUNREACH), RF_NAME(EALREADY), RF_NAME(EINPROGRESS),
    RF_NAME(ESTALE), RF_NAME(EUCLEAN), RF_NAME(ENOTNAM), RF_NAME(ENAVAIL), RF_NAME(EISNAM),
    RF_NAME(EREMOTEIO), RF_NAME(EDQUOT), RF_NAME(ENOMEDIUM), RF_NAME(EMEDIUMTYPE),
    RF_NAME(ECANCELED), RF_NAME(ENOKEY), RF_NAME(EKEYEXPIRED), RF_NAME(EKEYREVOKED),
    RF_NAME(EKEYREJECTED), RF_NAME(EOWNERDEAD), RF_NAME(ENOTRECOVERABLE), RF_NAME(ERFKILL),
    RF_NAME(EHWPOISON),
};
// 1..133 minus the unassigned 41 and 58, plus three aliases. A mismatch means an entry
// was lost or duplicated while editing.
static_assert(kErrnos.size() == 131 + 3);

// Indexed by capability number: kCapabilities[i].value == i is checked below.
constexpr std::array kCapabilities = {
    RF_NAME(CAP_CHOWN), RF_NAME(CAP_DAC_OVERRIDE), RF_NAME(CAP_DAC_READ_SEARCH),
    RF_NAME(CAP_FOWNER), RF_NAME(CAP_FSETID), RF_NAME(CAP_KILL), RF_NAME(CAP_SETGID),
    RF_NAME(CAP_SETUID), RF_NAME(CAP_SETPCAP), RF_NAME(CAP_LINUX_IMMUTABLE),
    RF_NAME(CAP_NET_BIND_SERVICE), RF_NAME(CAP_NET_BROADCAST), RF_NAME(CAP_NET_ADMIN),
    RF_NAME(CAP_NET_RAW), RF_NAME(CAP_IPC_LOCK), RF_NAME(CAP_IPC_OWNER), RF_NAME(CAP_SYS_MODULE),
    RF_NAME(CAP_SYS_RAWIO), RF_NAME(CAP_SYS_CHROOT), RF_NAME(CAP_SYS_PTRACE),
    RF_NAME(CAP_SYS_PACCT), RF_NAME(CAP_SYS_ADMIN), RF_NAME(CAP_SYS_BOOT), RF_NAME(CAP_SYS_NICE),
    RF_NAME(CAP_SYS_RESOURCE), RF_NAME(CAP_SYS_TIME), RF_NAME(CAP_SYS_TTY_CONFIG),
    RF_NAME(CAP_MKNOD), RF_NAME(CAP_LEASE), RF_NAME(CAP_AUDIT_WRITE), RF_NAME(CAP_AUDIT_CONTROL),
    RF_NAME(CAP_SETFCAP), RF_NAME(CAP_MAC_OVERRIDE), RF_NAME(CAP_MAC_ADMIN), RF_NAME(CAP_SYSLOG),
    RF_NAME(CAP_WAKE_ALARM), RF_NAME(CAP_BLOCK_SUSPEND), RF_NAME(CAP_AUDIT_READ),
    RF_NAME(CAP_PERFMON), RF_NAME(CAP_BPF), RF_NAME(CAP_CHECKPOINT_RESTORE),
};
// Newer kernel headers that add a capability must extend the table, not silently drop it.
static_assert(kCapabilities.size() == CAP_LAST_CAP + 1, "capability table is out of date");
constexpr bool capabilities_indexed() {
  for (std::size_t i = 0; i < kCapabilities.size(); ++i)
    if (kCapabilities[i].value != static_cast<int>(i))
      return false;
  return true;
}
static_assert(capabilities_indexed());

// glibc's <sys/socket.h> AF_* names minus AF_UNSPEC and AF_MAX, as systemd's af-list.txt.
// Canonical names first: AF_UNIX before AF_LOCAL/AF_FILE, AF_NETLINK before AF_ROUTE.
constexpr std::array kAddressFamilies = {
    RF_NAME(AF_UNIX), RF_NAME(AF_LOCAL), RF_NAME(AF_FILE), RF_NAME(AF_INET), RF_NAME(AF_AX25),
    RF_NAME(AF_IPX), RF_NAME(AF_APPLETALK), RF_NAME(AF_NETROM), RF_NAME(AF_BRIDGE),
    RF_NAME(AF_ATMPVC), RF_NAME(AF_X25), RF_NAME(AF_INET6), RF_NAME(AF_ROSE), RF_NAME(AF_DECnet),
    RF_NAME(AF_NETBEUI), RF_NAME(AF_SECURITY), RF_NAME(AF_KEY), RF_NAME(AF_NETLINK),
    RF_NAME(AF_ROUTE), RF_NAME(AF_PACKET), RF_NAME(AF_ASH), RF_NAME(AF_ECONET),
    RF_NAME(AF_ATMSVC), RF_NAME(AF_RDS), RF_NAME(AF_SNA), RF_NAME(AF_IRDA), RF_NAME(AF_PPPOX),
    RF_NAME(AF_WANPIPE), RF_NAME(AF_LLC), RF_NAME(AF_IB), RF_NAME(AF_MPLS), RF_NAME(AF_CAN),
    RF_NAME(AF_TIPC), RF_NAME(AF_BLUETOOTH), RF_NAME(AF_IUCV), RF_NAME(AF_RXRPC),
    RF_NAME(AF_ISDN), RF_NAME(AF_PHONET), RF_NAME(AF_IEEE802154), RF_NAME(AF_CAIF),
    RF_NAME(AF_ALG), RF_NAME(AF_NFC), RF_NAME(AF_VSOCK), RF_NAME(AF_KCM), RF_NAME(AF_QIPCRTR),
    RF_NAME(AF_SMC), RF_NAME(AF_XDP), RF_NAME(AF_MCTP),
};

#undef RF_NAME

struct NamespaceType {
  std::string_view name;
  std::uint64_t flag;
};

// systemd 252's namespace_flag_map (src/shared/nsflags.c), in its order. The mount
// namespace flag is CLONE_NEWNS for historical reasons; systemd calls it "mnt" as /proc does.
constexpr std::array kNamespaceTypes = {
    NamespaceType{"cgroup", CLONE_NEWCGROUP}, NamespaceType{"ipc", CLONE_NEWIPC},
    NamespaceType{"net", CLONE_NEWNET},       NamespaceType{"mnt", CLONE_NEWNS},
    NamespaceType{"pid", CLONE_NEWPID},       NamespaceType{"user", CLONE_NEWUSER},
    NamespaceType{"uts", CLONE_NEWUTS},
};

} // namespace

std::optional<int> errno_from_name(std::string_view name) {
  return lookup_ignore_case(kErrnos, name);
}

std::string_view errno_name(int err) { return lookup_value(kErrnos, err); }

std::optional<int> parse_errno(std::string_view text) {
  if (auto err = errno_from_name(text))
    return err;
  // Digits only: no sign, no spaces, so "+5" or " 5" are not quietly taken as 5.
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size())
    return std::nullopt; // overflow
  if (value < 1 || value > kErrnoMax)
    return std::nullopt;
  return value;
}

std::optional<int> capability_from_name(std::string_view name) {
  return lookup_ignore_case(kCapabilities, name);
}

std::string_view capability_name(int cap) {
  if (cap < 0 || cap > CAP_LAST_CAP)
    return {};
  return kCapabilities[static_cast<std::size_t>(cap)].name;
}

int capability_last() { return CAP_LAST_CAP; }

std::optional<int> address_family_from_name(std::string_view name) {
  return lookup_ignore_case(kAddressFamilies, name);
}

std::string_view address_family_name(int family) { return lookup_value(kAddressFamilies, family); }

std::optional<std::uint64_t> namespace_flag_from_name(std::string_view name) {
  for (const auto &type : kNamespaceTypes)
    if (type.name == name)
      return type.flag;
  return std::nullopt;
}

std::string_view namespace_name(std::uint64_t flag) {
  for (const auto &type : kNamespaceTypes)
    if (type.flag == flag)
      return type.name;
  return {};
}

std::uint64_t all_namespace_flags() {
  std::uint64_t all = 0;
  for (const auto &type : kNamespaceTypes)
    all |= type.flag;
  return all;
}

} // namespace rf::names
