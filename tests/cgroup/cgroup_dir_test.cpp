// CgroupDir against the live cgroup2 hierarchy. Needs root.
#include "cgroup/cgroup.hpp"
#include "cgroup/cgroup_fixture.hpp"
#include "test_support.hpp"

#include <csignal>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

namespace rf::cgroup {
namespace {

using test::clone_into_cgroup;
using test::path_exists;
using test::TestCgroupPath;
using test::wait_for;

std::string unified_line(pid_t pid) {
  std::string text = test::read_file("/proc/" + std::to_string(pid) + "/cgroup");
  std::size_t at = text.find("0::");
  if (at == std::string::npos)
    return {};
  return text.substr(at, text.find('\n', at) - at);
}

TEST(Cgroup2Live, FindsMountedHierarchyAndOwnCgroup) {
  RF_REQUIRE_ROOT();
  Result<std::string> mount = find_cgroup2_mount();
  ASSERT_TRUE(mount) << mount.error().message();
  struct statfs fs {};
  ASSERT_EQ(statfs(mount->c_str(), &fs), 0) << *mount;
  EXPECT_EQ(fs.f_type, CGROUP2_SUPER_MAGIC) << *mount;

  Result<std::string> own = own_cgroup_path();
  ASSERT_TRUE(own) << own.error().message();
  EXPECT_TRUE(path_exists(*mount + *own)) << *mount << *own;
}

TEST(CgroupDir, CreatesCgroupWhoseIdIsTheInode) {
  RF_REQUIRE_ROOT();
  TestCgroupPath where;
  Result<CgroupDir> dir = CgroupDir::create(where.path());
  ASSERT_TRUE(dir) << dir.error().message();

  EXPECT_EQ(dir->path(), where.path());
  EXPECT_GE(dir->fd(), 0);
  EXPECT_TRUE(path_exists(where.path() + "/cgroup.procs"));
  struct stat st {};
  ASSERT_EQ(stat(where.path().c_str(), &st), 0);
  EXPECT_EQ(dir->id(), st.st_ino);
  Result<std::uint64_t> id = cgroup_id(where.path());
  ASSERT_TRUE(id) << id.error().message();
  EXPECT_EQ(*id, st.st_ino);

  ASSERT_TRUE(dir->remove());
  EXPECT_FALSE(path_exists(where.path()));
  EXPECT_TRUE(dir->remove()) << "a second remove() is a no-op";
}

TEST(CgroupDir, RefusesExistingDirectory) {
  RF_REQUIRE_ROOT();
  TestCgroupPath where;
  Result<CgroupDir> first = CgroupDir::create(where.path());
  ASSERT_TRUE(first) << first.error().message();
  Result<CgroupDir> second = CgroupDir::create(where.path());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().err, EEXIST);
  EXPECT_TRUE(path_exists(where.path())) << "the failed create must not remove the first";
}

TEST(CgroupDir, RefusesDirectoryOutsideCgroup2) {
  RF_REQUIRE_ROOT();
  test::TempDir tmp;
  std::string path = tmp / "not-a-cgroup";
  Result<CgroupDir> dir = CgroupDir::create(path);
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.error().message().find("not on a cgroup2"), std::string::npos)
      << dir.error().message();
  EXPECT_FALSE(path_exists(path)) << "the stray directory must be removed again";
}

TEST(CgroupDir, ReportsMissingParent) {
  RF_REQUIRE_ROOT();
  TestCgroupPath where;
  Result<CgroupDir> dir = CgroupDir::create(where.path() + "/no/such/parent");
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().err, ENOENT);
}

TEST(CgroupDir, DestructorRemovesDirectory) {
  RF_REQUIRE_ROOT();
  TestCgroupPath where;
  {
    Result<CgroupDir> dir = CgroupDir::create(where.path());
    ASSERT_TRUE(dir) << dir.error().message();
    ASSERT_TRUE(path_exists(where.path()));
  }
  EXPECT_FALSE(path_exists(where.path()));
}

TEST(CgroupDir, MoveTransfersOwnership) {
  RF_REQUIRE_ROOT();
  TestCgroupPath where;
  Result<CgroupDir> created = CgroupDir::create(where.path());
  ASSERT_TRUE(created) << created.error().message();
  {
    CgroupDir owner = std::move(*created);
    { CgroupDir drop = std::move(*created); } // moved-from: owns nothing
    EXPECT_TRUE(path_exists(where.path()));
    EXPECT_EQ(owner.path(), where.path());
  }
  EXPECT_FALSE(path_exists(where.path()));
}

TEST(CgroupDir, ClonedProcessRunsInCgroupUntilKilled) {
  RF_REQUIRE_ROOT();
  TestCgroupPath where;
  Result<CgroupDir> dir = CgroupDir::create(where.path());
  ASSERT_TRUE(dir) << dir.error().message();

  pid_t child = clone_into_cgroup(dir->fd(), [] {
    for (;;)
      pause();
    return 0;
  });
  ASSERT_GT(child, 0) << "clone3(CLONE_INTO_CGROUP): " << std::strerror(errno);
  EXPECT_EQ(unified_line(child), "0::" + where.relative());
  EXPECT_EQ(test::read_file(where.path() + "/cgroup.procs"), std::to_string(child) + "\n");

  ASSERT_TRUE(dir->kill_all());
  int status = wait_for(child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGKILL);

  ASSERT_TRUE(dir->remove());
  EXPECT_FALSE(path_exists(where.path()));
}

// The usual end of a run: the service is gone, and the rmdir that proves it is the removal.
// A cgroup with a process or a child cgroup in it stays, for kill_all() and remove().
TEST(CgroupDir, RemoveIfEmptyTakesOnlyAnEmptyCgroup) {
  RF_REQUIRE_ROOT();
  TestCgroupPath where;
  Result<CgroupDir> dir = CgroupDir::create(where.path());
  ASSERT_TRUE(dir) << dir.error().message();
  pid_t child = clone_into_cgroup(dir->fd(), [] {
    for (;;)
      pause();
    return 0;
  });
  ASSERT_GT(child, 0) << std::strerror(errno);
  EXPECT_FALSE(dir->remove_if_empty());
  EXPECT_TRUE(path_exists(where.path()));
  ASSERT_TRUE(dir->kill_all());
  EXPECT_TRUE(WIFSIGNALED(wait_for(child)));

  ASSERT_EQ(::mkdir((where.path() + "/sub").c_str(), 0755), 0);
  EXPECT_FALSE(dir->remove_if_empty());
  ASSERT_EQ(::rmdir((where.path() + "/sub").c_str()), 0);

  EXPECT_TRUE(dir->remove_if_empty());
  EXPECT_FALSE(path_exists(where.path()));
  EXPECT_TRUE(dir->remove_if_empty()); // owns nothing any more
  EXPECT_TRUE(dir->remove());
}

TEST(CgroupDir, RemoveRightAfterKillAllSucceeds) {
  RF_REQUIRE_ROOT();
  TestCgroupPath where;
  Result<CgroupDir> dir = CgroupDir::create(where.path());
  ASSERT_TRUE(dir) << dir.error().message();
  pid_t children[4];
  for (pid_t &child : children) {
    child = clone_into_cgroup(dir->fd(), [] {
      for (;;)
        pause();
      return 0;
    });
    ASSERT_GT(child, 0) << std::strerror(errno);
  }

  // No waitpid in between: the processes may still be exiting.
  ASSERT_TRUE(dir->kill_all());
  Status removed = dir->remove();
  EXPECT_TRUE(removed) << removed.error().message();
  EXPECT_FALSE(path_exists(where.path()));
  for (pid_t child : children)
    EXPECT_TRUE(WIFSIGNALED(wait_for(child)));
}

TEST(CgroupDir, RemoveReportsLiveProcesses) {
  RF_REQUIRE_ROOT();
  TestCgroupPath where;
  Result<CgroupDir> dir = CgroupDir::create(where.path());
  ASSERT_TRUE(dir) << dir.error().message();
  pid_t child = clone_into_cgroup(dir->fd(), [] {
    for (;;)
      pause();
    return 0;
  });
  ASSERT_GT(child, 0) << std::strerror(errno);

  Status removed = dir->remove();
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().err, EBUSY);
  EXPECT_TRUE(path_exists(where.path()));

  ASSERT_TRUE(dir->kill_all());
  wait_for(child);
  EXPECT_TRUE(dir->remove());
}

} // namespace
} // namespace rf::cgroup
