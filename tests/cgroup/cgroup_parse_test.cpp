// Parsing /proc/self/mountinfo and /proc/self/cgroup, from captured samples.
#include "cgroup/cgroup.hpp"

#include <gtest/gtest.h>

namespace rf::cgroup {
namespace {

// Hybrid layout (v1 controllers plus cgroup2 at .../unified), as on the CI machine.
constexpr const char *hybrid_mountinfo =
    "22 1 0:21 / / rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

// Unified layout as systemd mounts it, with optional "shared:N" fields.
constexpr const char *unified_mountinfo =
    "24 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw,errors=remount-ro\n"
    "25 24 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n"
    "28 25 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 master:2 - cgroup2 "
    "cgroup2 rw,nsdelegate,memory_recursiveprot\n";

TEST(FindCgroup2Mount, FindsUnifiedMountInHybridLayout) {
  Result<std::string> mount = find_cgroup2_mount(hybrid_mountinfo);
  ASSERT_TRUE(mount) << mount.error().message();
  EXPECT_EQ(*mount, "/sys/fs/cgroup/unified");
}

TEST(FindCgroup2Mount, FindsMountInUnifiedLayoutWithOptionalFields) {
  Result<std::string> mount = find_cgroup2_mount(unified_mountinfo);
  ASSERT_TRUE(mount) << mount.error().message();
  EXPECT_EQ(*mount, "/sys/fs/cgroup");
}

TEST(FindCgroup2Mount, DecodesOctalEscapesInMountPoint) {
  Result<std::string> mount = find_cgroup2_mount(
      "50 24 0:40 / /run/my\\040cgroups\\011v2\\134x rw,relatime - cgroup2 none rw\n");
  ASSERT_TRUE(mount) << mount.error().message();
  EXPECT_EQ(*mount, "/run/my cgroups\tv2\\x");
}

TEST(FindCgroup2Mount, KeepsBackslashThatIsNoEscape) {
  Result<std::string> mount =
      find_cgroup2_mount("50 24 0:40 / /run/a\\9b\\04 rw - cgroup2 none rw");
  ASSERT_TRUE(mount) << mount.error().message();
  EXPECT_EQ(*mount, "/run/a\\9b\\04");
}

TEST(FindCgroup2Mount, MatchesOnlyTheFstypeField) {
  // "cgroup2" as the mount point and as the source of a tmpfs is not a cgroup2 mount.
  Result<std::string> mount =
      find_cgroup2_mount("60 24 0:41 / /cgroup2 rw - tmpfs cgroup2 rw\n"
                         "61 24 0:42 / /x rw shared:9 - cgroup cgroup2 rw\n");
  EXPECT_FALSE(mount);
}

TEST(FindCgroup2Mount, ReportsErrorWithoutCgroup2) {
  Result<std::string> mount =
      find_cgroup2_mount("31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
                         "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n");
  ASSERT_FALSE(mount);
  EXPECT_NE(mount.error().message().find("cgroup2"), std::string::npos);
}

TEST(FindCgroup2Mount, ReportsErrorForEmptyOrTruncatedText) {
  EXPECT_FALSE(find_cgroup2_mount(""));
  EXPECT_FALSE(find_cgroup2_mount("41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2"));
}

// What the service may not write to: one recursive read-only mount where a tmpfs holds only
// cgroup mounts, else each cgroup and bpf mount.
TEST(ControlMounts, ATmpfsOfCgroupMountsStandsForThemAll) {
  EXPECT_EQ(control_mounts(parse_mountinfo(hybrid_mountinfo)),
            std::vector<std::string>{"/sys/fs/cgroup"});
}

TEST(ControlMounts, UnifiedLayoutIsTheCgroup2Mount) {
  EXPECT_EQ(control_mounts(parse_mountinfo(unified_mountinfo)),
            std::vector<std::string>{"/sys/fs/cgroup"});
}

TEST(ControlMounts, ATmpfsHoldingAnythingElseIsNotTaken) {
  std::vector<MountEntry> mounts = {
      {"/sys/fs/cgroup", "tmpfs"},      {"/sys/fs/cgroup/cpu", "cgroup"},
      {"/sys/fs/cgroup/unified", "cgroup2"}, {"/sys/fs/cgroup/notes", "ext4"},
      {"/sys/fs/bpf", "bpf"},           {"/run", "tmpfs"},
  };
  EXPECT_EQ(control_mounts(mounts),
            (std::vector<std::string>{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/unified",
                                      "/sys/fs/bpf"}));
}

TEST(ControlMounts, APathPrefixIsNotAParent) {
  std::vector<MountEntry> mounts = {
      {"/cg", "tmpfs"}, {"/cg/a", "cgroup"}, {"/cgroup2", "cgroup2"}, {"/empty", "tmpfs"}};
  EXPECT_EQ(control_mounts(mounts), (std::vector<std::string>{"/cg", "/cgroup2"}));
}

TEST(OwnCgroupPath, ReadsUnifiedLineInHybridLayout) {
  Result<std::string> path = own_cgroup_path("9:name=systemd:/\n"
                                             "4:memory:/process_api/fcc33e6f\n"
                                             "1:cpu:/\n"
                                             "0::/\n");
  ASSERT_TRUE(path) << path.error().message();
  EXPECT_EQ(*path, "/");
}

TEST(OwnCgroupPath, ReadsNestedPath) {
  Result<std::string> path = own_cgroup_path("0::/user.slice/user-1000.slice/session-2.scope\n");
  ASSERT_TRUE(path) << path.error().message();
  EXPECT_EQ(*path, "/user.slice/user-1000.slice/session-2.scope");
}

TEST(OwnCgroupPath, ReportsErrorWithoutUnifiedLine) {
  // cgroup v1 only: every hierarchy has a non-zero id.
  EXPECT_FALSE(own_cgroup_path("2:cpu,cpuacct:/\n1:name=systemd:/init.scope\n"));
  EXPECT_FALSE(own_cgroup_path(""));
}

TEST(OwnCgroupPath, ReportsErrorForRelativePath) {
  EXPECT_FALSE(own_cgroup_path("0::\n"));
  EXPECT_FALSE(own_cgroup_path("0::garbage\n"));
}

} // namespace
} // namespace rf::cgroup
