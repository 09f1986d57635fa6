// The on-disk cache of compiled seccomp programs: same program as a fresh compile, a
// different entry per policy, and only a root-owned, private directory is trusted.
#include "policy_of.hpp"
#include "seccomp/cache.hpp"
#include "test_support.hpp"
#include "unit/directives.hpp"
#include "unit/ini_reader.hpp"

#include <chrono>
#include <cstring>
#include <dirent.h>
#include <iostream>
#include <seccomp.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace rf;

namespace {

using rf::test::policy_of;

bool same_program(const seccomp::CompiledFilter &a, const seccomp::CompiledFilter &b) {
  return a.program.size() == b.program.size() &&
         std::memcmp(a.program.data(), b.program.data(), a.program.size() * sizeof(sock_filter)) == 0;
}

int entries(const std::string &directory) {
  int count = 0;
  if (DIR *dir = ::opendir(directory.c_str())) {
    while (const dirent *e = ::readdir(dir))
      count += e->d_name[0] != '.';
    ::closedir(dir);
  }
  return count;
}

const char *kSystemService = "SystemCallFilter=@system-service\nSystemCallErrorNumber=EPERM\n";

TEST(SeccompCache, KeyDependsOnEverySeccompDirective) {
  std::string base = seccomp::cache_key(policy_of(kSystemService));
  EXPECT_EQ(base, seccomp::cache_key(policy_of(kSystemService)));
  for (const char *extra : {"SystemCallFilter=~@resources\n", "SystemCallErrorNumber=EACCES\n",
                            "RestrictAddressFamilies=AF_UNIX\n", "RestrictNamespaces=yes\n",
                            "LockPersonality=yes\n", "MemoryDenyWriteExecute=yes\n",
                            "RestrictRealtime=yes\n", "RestrictSUIDSGID=yes\n",
                            "SystemCallLog=getpid\n"})
    EXPECT_NE(base, seccomp::cache_key(policy_of(std::string(kSystemService) + extra))) << extra;
}

// The key's text, line by line (what the entry stores and load() compares whole).
TEST(SeccompCache, KeyListsEveryEntryAndSettingAsText) {
  Policy policy = policy_of("SystemCallFilter=~mount:EBADF reboot:kill umount2\n"
                            "SystemCallErrorNumber=EPERM\nSystemCallArchitectures=native\n"
                            "SystemCallLog=getpid\nRestrictAddressFamilies=AF_UNIX AF_INET6\n"
                            "RestrictNamespaces=yes\nLockPersonality=yes\nRestrictSUIDSGID=yes\n");
  std::string key = seccomp::cache_key(policy, {true});
  const scmp_version *v = seccomp_version();
  std::string expected = "notify\nentry v2\n" + std::string(seccomp::kProgramForm) +
                         "\nlibseccomp " + std::to_string(v->major) + "." +
                         std::to_string(v->minor) + "." + std::to_string(v->micro) +
                         "\ndeny\nmount=9\nreboot=-2\numount2=-1\nnamed mount\nnamed reboot\n"
                         "named umount2\nerrno 1\narch native\nlog\nlog getpid\naf\naf 1\naf 10\n"
                         "ns 0\nflags P--S\n";
  ASSERT_NE(key.find('\n'), std::string::npos);
  EXPECT_EQ(key.substr(key.find('\n') + 1), expected);
  EXPECT_EQ(seccomp::cache_key(policy_of("SystemCallErrorNumber=kill\nLockPersonality=yes\n"), {})
                .substr(key.find('\n') + 1),
            "errno\nentry v2\n" + std::string(seccomp::kProgramForm) + "\nlibseccomp " +
                std::to_string(v->major) + "." +
                std::to_string(v->minor) + "." + std::to_string(v->micro) +
                "\nerrno kill\nflags P---\n");
}

// The key's first line names this executable by the GNU build id in its image, the one readelf
// reads from the file: no /proc/self/exe lookup per launch, and a rebuild with other code
// gets other keys.
TEST(SeccompCache, KeyNamesTheExecutableByItsBuildId) {
  char self[4096] = {};
  ASSERT_GT(::readlink("/proc/self/exe", self, sizeof self - 1), 0);
  auto notes = test::run_command({"/usr/bin/readelf", "-n", self});
  ASSERT_EQ(notes.status, 0) << notes.err;
  std::size_t at = notes.out.find("Build ID: ");
  ASSERT_NE(at, std::string::npos) << "the test binary has no build id:\n" << notes.out;
  std::string build_id = notes.out.substr(at + 10, notes.out.find('\n', at) - at - 10);
  std::string key = seccomp::cache_key(policy_of(kSystemService));
  EXPECT_EQ(key.substr(0, key.find('\n')), "build-id " + build_id);
}

TEST(SeccompCache, CachedProgramIsTheCompiledOneAndIsReused) {
  RF_REQUIRE_ROOT(); // the cache trusts only root's files
  test::TempDir dir;
  std::string cache = dir / "cache";
  Policy policy = policy_of(kSystemService);
  Result<seccomp::CompiledFilter> fresh = seccomp::compile(policy);
  ASSERT_TRUE(fresh);

  auto start = std::chrono::steady_clock::now();
  Result<seccomp::CompiledFilter> first = seccomp::compile_cached(policy, cache);
  auto compiled = std::chrono::steady_clock::now();
  Result<seccomp::CompiledFilter> second = seccomp::compile_cached(policy, cache);
  auto cached = std::chrono::steady_clock::now();
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(same_program(*fresh, *first));
  EXPECT_TRUE(same_program(*fresh, *second));
  EXPECT_EQ(entries(cache), 1);
  std::cout << "compile " << std::chrono::duration<double, std::milli>(compiled - start).count()
            << " ms, from the cache "
            << std::chrono::duration<double, std::milli>(cached - compiled).count() << " ms\n";

  ASSERT_TRUE(seccomp::compile_cached(policy_of("SystemCallFilter=~@mount\n"), cache));
  EXPECT_EQ(entries(cache), 2);
}

TEST(SeccompCache, EntryOfAnotherKeyIsNotTaken) {
  RF_REQUIRE_ROOT();
  test::TempDir dir;
  std::string cache = dir / "cache";
  Policy allow = policy_of(kSystemService), deny = policy_of("SystemCallFilter=~@mount\n");
  ASSERT_TRUE(seccomp::compile_cached(allow, cache));
  // Put the allow list's entry under the deny list's name: the key inside must not match.
  DIR *d = ::opendir(cache.c_str());
  ASSERT_NE(d, nullptr);
  std::string name;
  while (const dirent *e = ::readdir(d))
    if (e->d_name[0] != '.')
      name = e->d_name;
  ::closedir(d);
  ASSERT_TRUE(seccomp::compile_cached(deny, cache));
  std::string deny_name;
  d = ::opendir(cache.c_str());
  while (const dirent *e = ::readdir(d))
    if (e->d_name[0] != '.' && name != e->d_name)
      deny_name = e->d_name;
  ::closedir(d);
  ASSERT_FALSE(deny_name.empty());
  ASSERT_EQ(::rename((cache + "/" + name).c_str(), (cache + "/" + deny_name).c_str()), 0);
  Result<seccomp::CompiledFilter> got = seccomp::compile_cached(deny, cache);
  Result<seccomp::CompiledFilter> expected = seccomp::compile(deny);
  ASSERT_TRUE(got && expected);
  EXPECT_TRUE(same_program(*got, *expected));
}

// The directory and its parent are made on first use (/run is a tmpfs), root's and private.
TEST(SeccompCache, MissingDirectoryIsMadePrivate) {
  RF_REQUIRE_ROOT();
  test::TempDir dir;
  std::string cache = dir / "ringfence/seccomp";
  ASSERT_TRUE(seccomp::compile_cached(policy_of(kSystemService), cache));
  EXPECT_EQ(entries(cache), 1);
  struct stat st {};
  ASSERT_EQ(::stat(cache.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_TRUE(seccomp::compile_cached(policy_of(kSystemService), cache)); // found, not made
  EXPECT_EQ(entries(cache), 1);
}

TEST(SeccompCache, DirectoryOthersCanWriteIsNotUsed) {
  RF_REQUIRE_ROOT();
  test::TempDir dir;
  std::string cache = dir / "cache";
  ASSERT_EQ(::mkdir(cache.c_str(), 0777), 0);
  ASSERT_EQ(::chmod(cache.c_str(), 0777), 0);
  ASSERT_TRUE(seccomp::compile_cached(policy_of(kSystemService), cache));
  EXPECT_EQ(entries(cache), 0);
}

} // namespace
