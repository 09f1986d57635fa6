// `ringfence audit` through the built binary, on a log the test writes.
#include "test_support.hpp"

#include "audit/audit_log.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using rf::test::CommandResult;
using rf::test::run_command;
using rf::test::TempDir;
using rf::test::write_file;

extern char **environ;

namespace {

const std::string kStart =
    R"({"time":"2026-11-29T10:02:10.000001Z","event":"start","unit":"web.service","invocation":"21bbc9340a2e332390d80e3282cce8ee","pid":4121,"comm":"web","command":["/usr/bin/web","--port","8080"],"cgroup":"/ringfence/web.service-21bbc9340a2e332390d80e3282cce8ee"})";
const std::string kConnect =
    R"({"time":"2026-11-29T10:02:11.520113Z","event":"connect-denied","unit":"web.service","invocation":"21bbc9340a2e332390d80e3282cce8ee","pid":4121,"comm":"curl","family":"ipv4","protocol":"tcp","daddr":"127.0.0.9","dport":443,"count":1})";
const std::string kMount =
    R"({"time":"2026-11-29T10:02:12.070000Z","event":"syscall-denied","unit":"web.service","invocation":"21bbc9340a2e332390d80e3282cce8ee","pid":4121,"comm":"python","syscall":"mount","nr":165,"action":"errno","errno":"EPERM","count":3})";
const std::string kOtherUnit =
    R"({"time":"2026-11-29T10:02:13.000000Z",  "event":"connect-denied","unit":"db.service","invocation":"b889854db921bda8b7ec00718a6d5221","pid":77,"comm":"psql","family":"ipv6","protocol":"tcp","daddr":"2001:db8::1","dport":5432,"count":4})";
const std::string kMountAgain =
    R"({"time":"2026-11-29T10:02:14.000000Z","event":"syscall-denied","unit":"web.service","invocation":"21bbc9340a2e332390d80e3282cce8ee","pid":4122,"comm":"python","syscall":"mount","nr":165,"action":"errno","errno":"EPERM","count":5})";
const std::string kExit =
    R"({"time":"2026-11-29T10:02:15.000000Z","event":"exit","unit":"web.service","invocation":"21bbc9340a2e332390d80e3282cce8ee","pid":4121,"comm":"web","status":0,"duration_ms":4999,"stage":"exec"})";

struct Log {
  TempDir tmp;
  std::string path = tmp / "audit.jsonl";

  Log() {
    write_file(path, kStart + "\n" + kConnect + "\n" + "this is not json\n" + kMount + "\n" +
                         kOtherUnit + "\n" + kMountAgain + "\n{\"truncated\n" + kExit + "\n");
  }
  CommandResult audit(std::vector<std::string> args) const {
    args.insert(args.begin(), {rf::test::ringfence_bin(), "audit", "--audit-log", path});
    return run_command(args);
  }
};

std::vector<std::string> lines_of(const std::string &text) {
  std::vector<std::string> lines;
  for (std::size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos;
       start = end + 1)
    lines.push_back(text.substr(start, end - start));
  return lines;
}

} // namespace

TEST(AuditCommand, TableOfEveryRecord) {
  Log log;
  CommandResult r = log.audit({});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "TIME                    UNIT         PID   COMM    EVENT           DESTINATION               COUNT\n"
            "2026-11-29 10:02:10.00  web.service  4121  web     start           /usr/bin/web --port 8080\n"
            "2026-11-29 10:02:11.52  web.service  4121  curl    connect-denied  127.0.0.9:443/tcp         1\n"
            "2026-11-29 10:02:12.07  web.service  4121  python  syscall-denied  mount (EPERM)             3\n"
            "2026-11-29 10:02:13.00  db.service   77    psql    connect-denied  [2001:db8::1]:5432/tcp    4\n"
            "2026-11-29 10:02:14.00  web.service  4122  python  syscall-denied  mount (EPERM)             5\n"
            "2026-11-29 10:02:15.00  web.service  4121  web     exit            status 0\n");
  EXPECT_EQ(r.err, "ringfence: audit: 2 malformed lines skipped\n");
}

TEST(AuditCommand, UnitWithoutSuffixMeansService) {
  Log log;
  CommandResult r = log.audit({"--unit", "db"});
  EXPECT_EQ(r.status, 0);
  ASSERT_EQ(lines_of(r.out).size(), 2u) << r.out;
  EXPECT_NE(r.out.find("[2001:db8::1]:5432/tcp"), std::string::npos);
}

TEST(AuditCommand, SinceIsInclusiveUntilExclusive) {
  Log log;
  CommandResult r = log.audit({"--since", "2026-11-29 10:02:12.07", "--until",
                               "2026-11-29T10:02:14Z", "--json"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, kMount + "\n" + kOtherUnit + "\n");
}

namespace {

// A record written `seconds_ago` before now, by the real clock.
std::string exit_record_ago(long seconds_ago) {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  now.tv_sec -= seconds_ago;
  return R"({"time":")" + rf::audit::format_time(now) +
         R"(","event":"exit","unit":"a.service","invocation":"x","pid":1,"comm":"a","status":)" +
         std::to_string(seconds_ago) + R"(,"duration_ms":1,"stage":"exec"})";
}

} // namespace

TEST(AuditCommand, RelativeTimes) {
  TempDir tmp;
  std::string path = tmp / "audit.jsonl";
  write_file(path, exit_record_ago(3 * 86400) + "\n" + exit_record_ago(3600) + "\n" +
                       exit_record_ago(60) + "\n");
  auto selected = [&path](const std::string &option, const std::string &time) {
    CommandResult r = run_command({rf::test::ringfence_bin(), "audit", "--audit-log", path,
                                   "--json", option, time});
    EXPECT_EQ(r.status, 0) << r.err;
    return lines_of(r.out).size();
  };
  EXPECT_EQ(selected("--since", "10 min ago"), 1u);
  EXPECT_EQ(selected("--since", "10min ago"), 1u);
  EXPECT_EQ(selected("--since", "2 hours ago"), 2u);
  EXPECT_EQ(selected("--since", "4 d ago"), 3u);
  EXPECT_EQ(selected("--until", "1 day ago"), 1u);
  EXPECT_EQ(selected("--until", "now"), 3u);
  EXPECT_EQ(selected("--since", "now"), 0u);
}

TEST(AuditCommand, KindsRepeatedOrCommaSeparated) {
  Log log;
  CommandResult r = log.audit({"--kind", "start", "--kind", "exit,connect-denied", "--json"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, kStart + "\n" + kConnect + "\n" + kOtherUnit + "\n" + kExit + "\n");
}

TEST(AuditCommand, JsonIsThePassthroughOfTheSelectedLines) {
  Log log;
  CommandResult r = log.audit({"--json", "--unit", "web.service"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, kStart + "\n" + kConnect + "\n" + kMount + "\n" + kMountAgain + "\n" + kExit + "\n");
}

TEST(AuditCommand, SummarySumsDenialsOnly) {
  Log log;
  CommandResult r = log.audit({"--summary"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "UNIT         EVENT           DESTINATION             COUNT\n"
                   "db.service   connect-denied  [2001:db8::1]:5432/tcp  4\n"
                   "web.service  syscall-denied  mount (EPERM)           8\n"
                   "web.service  connect-denied  127.0.0.9:443/tcp       1\n");
  CommandResult json = log.audit({"--summary", "--json", "--unit", "web"});
  const std::string mount_line =
      R"x({"unit":"web.service","event":"syscall-denied","destination":"mount (EPERM)","count":8})x";
  const std::string connect_line =
      R"({"unit":"web.service","event":"connect-denied","destination":"127.0.0.9:443/tcp","count":1})";
  EXPECT_EQ(json.out, mount_line + "\n" + connect_line + "\n");
}

TEST(AuditCommand, UsageErrors) {
  Log log;
  for (const std::vector<std::string> &args :
       {std::vector<std::string>{"--kind", "connect"}, {"--kind", "exit,"}, {"--since", "soon"},
        {"--until", "2026-11-31"}, {"--since", "10 fortnights ago"}, {"--follow", "--summary"},
        {"--bogus"}, {"--unit"}, {"web.service"}}) {
    CommandResult r = log.audit(args);
    EXPECT_EQ(r.status, 2) << args[0];
    EXPECT_TRUE(r.out.empty()) << args[0];
    EXPECT_EQ(r.err.rfind("ringfence: audit: ", 0), 0u) << r.err;
  }
  EXPECT_NE(log.audit({"--since", "soon"}).err.find("invalid time 'soon'"), std::string::npos);
  EXPECT_NE(log.audit({"--kind", "connect"}).err.find("unknown kind 'connect'"), std::string::npos);
}

TEST(AuditCommand, AbsentLogIsANote) {
  TempDir tmp;
  std::string path = tmp / "none.jsonl";
  CommandResult r = run_command({rf::test::ringfence_bin(), "audit", "--json"},
                                {"RINGFENCE_AUDIT_LOG=" + path});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "ringfence: audit: no audit log at " + path + " yet\n");
}

TEST(AuditCommand, UnreadableLogIsStatusOne) {
  TempDir tmp;
  CommandResult r = run_command({rf::test::ringfence_bin(), "audit", "--audit-log", tmp.path()});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "ringfence: audit: cannot read " + tmp.path() + ": Is a directory\n");
}

namespace {

// `ringfence audit -f` in the background, its standard output read as it comes.
class Follower {
public:
  explicit Follower(const std::vector<std::string> &args) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0)
      return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    std::vector<std::string> words = args;
    words.insert(words.begin(), rf::test::ringfence_bin());
    std::vector<char *> argv;
    for (auto &word : words)
      argv.push_back(word.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0)
      pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    out_ = out[0];
  }
  ~Follower() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0)
      close(out_);
  }
  // Reads until the output contains `text`, or the deadline passes.
  bool wait_for(const std::string &text, std::chrono::seconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (output.find(text) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd readable{out_, POLLIN, 0};
      if (left.count() <= 0 || poll(&readable, 1, static_cast<int>(left.count())) <= 0)
        return false;
      char buffer[4096];
      ssize_t n = read(out_, buffer, sizeof buffer);
      if (n <= 0)
        return false;
      output.append(buffer, static_cast<std::size_t>(n));
    }
    return true;
  }
  int stop(int signal) {
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::string output;

private:
  pid_t pid_ = -1;
  int out_ = -1;
};

void append(const std::string &path, const std::string &text) {
  std::ofstream(path, std::ios::binary | std::ios::app) << text;
}

} // namespace

TEST(AuditCommand, FollowPrintsNewRecordsUntilSigterm) {
  Log log;
  Follower follower({"audit", "--audit-log", log.path, "-f", "--kind", "exit"});
  ASSERT_TRUE(follower.wait_for("status 0\n")) << follower.output;
  std::string later = kExit;
  later.replace(later.find("\"status\":0"), 10, "\"status\":3");
  append(log.path, kConnect + "\n" + later + "\n");
  ASSERT_TRUE(follower.wait_for("status 3\n")) << follower.output;
  EXPECT_EQ(follower.output.find("connect-denied"), std::string::npos);
  EXPECT_EQ(follower.stop(SIGTERM), 0);
}

TEST(AuditCommand, FollowJsonAcrossRotationAndSigint) {
  Log log;
  Follower follower({"audit", "--audit-log", log.path, "--follow", "--json", "--unit", "db"});
  ASSERT_TRUE(follower.wait_for(kOtherUnit + "\n")) << follower.output;
  ASSERT_EQ(std::rename(log.path.c_str(), (log.path + ".1").c_str()), 0);
  write_file(log.path, kOtherUnit + "\n");
  ASSERT_TRUE(follower.wait_for(kOtherUnit + "\n" + kOtherUnit + "\n")) << follower.output;
  EXPECT_EQ(follower.stop(SIGINT), 0);
}
