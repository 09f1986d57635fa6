// A supervisor SIGKILLed at each stage of a run (the test hook RINGFENCE_STOP_AT makes it
// stop itself there): the main process dies with it, what survives stays inside the
// invocation cgroup, and `ringfence gc` — or the next `run` — removes the rest. Needs root.
#include "launch/launch_support.hpp"

#include <csignal>

namespace rf::test {
namespace {

// The service leaves a background process ("survivor") and then becomes the main
// process "sleep 1000.457".
constexpr const char *kSurvivorArgument = "1000.456";
constexpr const char *kMainArgument = "1000.457";

std::vector<pid_t> cgroup_members(const std::string &cgroup_dir) {
  std::vector<pid_t> pids;
  for (const std::string &line : split_lines(read_file(cgroup_dir + "/cgroup.procs")))
    if (!line.empty())
      pids.push_back(static_cast<pid_t>(std::stol(line)));
  return pids;
}

bool is_survivor(pid_t pid) {
  for (pid_t survivor : pids_with_argument(kSurvivorArgument))
    if (survivor == pid)
      return true;
  return false;
}

// The run of one test, stopped at `stage` and then SIGKILLed.
class KilledSupervisor {
public:
  // `properties` are -p KEY=VALUE words placed before the command.
  // With `reap` false the test leaves the killed supervisor a zombie, as a parent that is
  // busy or gone (reparented to an init that does not reap) would.
  KilledSupervisor(const LaunchEnv &env, const std::string &stage,
                   std::vector<std::string> properties = {}, bool reap = true)
      : events_(env.tmp / "events"),
        ringfence_(with_command(env, properties, env.write_script(
                                           "victim.sh", std::string("sleep ") +
                                                            kSurvivorArgument + " &\n" +
                                                            "echo started >" + events_.path() +
                                                            "\nexec sleep " + kMainArgument +
                                                            "\n")),
                   {"RINGFENCE_STOP_AT=" + stage}, env.tmp / "ringfence.out",
                   env.tmp / "ringfence.err") {
    stopped_ = wait_until([&] { return process_state(ringfence_.pid()) == 'T'; });
    EXPECT_TRUE(stopped_) << "ringfence did not stop at " << stage << ": "
                          << read_file(env.tmp / "ringfence.err");
    if (!stopped_)
      return;
    // At "running" the service was exec'd; wait until it has also started its survivor,
    // so that there is something to collect. Earlier stages never reach the script.
    if (stage == "running") {
      EXPECT_EQ(events_.read_line(), "started");
    }
    std::vector<std::string> cgroups = env.parent.children();
    EXPECT_EQ(cgroups.size(), 1u) << "the invocation cgroup exists from stage \"cgroup\" on";
    if (cgroups.size() == 1) {
      invocation_cgroup_ = env.parent.relative() + "/" + cgroups[0];
      invocation_dir_ = env.parent.absolute() + "/" + cgroups[0];
    }
    ringfence_.signal(SIGKILL);
    if (reap) {
      EXPECT_EQ(ringfence_.wait_exit(), 128 + SIGKILL);
    } else {
      EXPECT_TRUE(wait_until([&] { return process_state(ringfence_.pid()) == 'Z'; }));
    }
  }

  bool stopped() const { return stopped_; }
  const std::string &invocation_cgroup() const { return invocation_cgroup_; }
  const std::string &invocation_dir() const { return invocation_dir_; }

private:
  static std::vector<std::string> with_command(const LaunchEnv &env,
                                               std::vector<std::string> words,
                                               const std::string &script) {
    words.push_back("--");
    words.push_back(script);
    return env.run_argv(words);
  }

  Fifo events_;
  Background ringfence_;
  bool stopped_ = false;
  std::string invocation_cgroup_, invocation_dir_;
};

// The main process dies with its supervisor; whatever is left is a survivor, and it is
// still inside the invocation cgroup.
void expect_only_contained_survivors(const KilledSupervisor &run) {
  EXPECT_TRUE(wait_until([&] { return pids_with_argument(kMainArgument).empty(); }))
      << "the main process outlived its supervisor (PR_SET_PDEATHSIG)";
  // Also a child killed before its exec: nothing but survivors may remain in the cgroup.
  EXPECT_TRUE(wait_until([&] {
    for (pid_t pid : cgroup_members(run.invocation_dir()))
      if (!is_survivor(pid))
        return false;
    return true;
  })) << "a process other than the background survivor is still in the cgroup";
  for (pid_t survivor : pids_with_argument(kSurvivorArgument))
    EXPECT_EQ(cgroup_of(survivor), run.invocation_cgroup())
        << "survivor " << survivor << " left its invocation cgroup";
}

class RunSupervisorKilled : public ::testing::TestWithParam<std::string> {};

TEST_P(RunSupervisorKilled, MainProcessDiesAndGcRemovesTheRest) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  KilledSupervisor run(env, GetParam());
  ASSERT_TRUE(run.stopped());
  ASSERT_FALSE(run.invocation_cgroup().empty());
  expect_only_contained_survivors(run);

  CommandResult gc = env.gc();
  EXPECT_EQ(gc.status, 0) << gc.err;
  EXPECT_TRUE(env.parent.children().empty()) << "gc left the stale invocation cgroup";
  EXPECT_TRUE(wait_until([] { return pids_with_argument(kSurvivorArgument).empty(); }))
      << "gc left the survivor running";
}

TEST_P(RunSupervisorKilled, NextRunWithTheSameParentCollectsTheStaleRun) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  KilledSupervisor run(env, GetParam());
  ASSERT_TRUE(run.stopped());
  expect_only_contained_survivors(run);

  CommandResult next = env.run({"--", "/bin/true"});
  EXPECT_EQ(next.status, 0) << next.err;
  EXPECT_TRUE(env.parent.children().empty()) << "the next run left the stale cgroup";
  EXPECT_TRUE(wait_until([] { return pids_with_argument(kSurvivorArgument).empty(); }))
      << "the next run left the survivor running";
}

TEST(RunSupervisorKilledZombie, GcCollectsRunWhoseSupervisorIsAnUnreapedZombie) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  // A zombie keeps its pid and start time in /proc until reaped, but it supervises
  // nothing: its run is as stale as one whose supervisor was reaped.
  KilledSupervisor run(env, "running", {}, /*reap=*/false);
  ASSERT_TRUE(run.stopped());
  expect_only_contained_survivors(run);

  CommandResult gc = env.gc();
  EXPECT_EQ(gc.status, 0) << gc.err;
  EXPECT_TRUE(env.parent.children().empty()) << "gc took the zombie supervisor for alive";
  EXPECT_TRUE(wait_until([] { return pids_with_argument(kSurvivorArgument).empty(); }))
      << "gc left the survivor running";
}

TEST(RunSupervisorKilledUnprivileged, MainProcessOfAnotherUserDiesWithItsSupervisor) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  // The parent-death signal is cleared by a change of user: it must be set after it.
  // Let nobody reach the script and the fifo.
  ::chmod(env.tmp.path().c_str(), 0711);
  Fifo events(env.tmp / "events"); // the same fifo KilledSupervisor opens
  ::chmod(events.path().c_str(), 0666);
  KilledSupervisor run(env, "running",
                       {"-p", "User=nobody", "-p", "AmbientCapabilities=CAP_NET_BIND_SERVICE"});
  ASSERT_TRUE(run.stopped());
  expect_only_contained_survivors(run);
  CommandResult gc = env.gc();
  EXPECT_EQ(gc.status, 0) << gc.err;
  EXPECT_TRUE(env.parent.children().empty());
}

INSTANTIATE_TEST_SUITE_P(Stages, RunSupervisorKilled,
                         ::testing::Values("cgroup", "attached", "spawned", "running"),
                         [](const ::testing::TestParamInfo<std::string> &stage) {
                           return stage.param;
                         });

} // namespace
} // namespace rf::test
