// Audit records as journal fields, and (with root) a run that sends them to a journal
// socket: a private mount namespace with a tmpfs over /run holds a stand-in journal, so the
// test neither needs nor disturbs a real journald.
#include "audit/journal.hpp"
#include "cgroup/cgroup.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace rf;

namespace {

bool has(const std::vector<std::string> &fields, const std::string &field) {
  return std::find(fields.begin(), fields.end(), field) != fields.end();
}

TEST(JournalFields, DenialRecordBecomesStructuredFields) {
  std::vector<std::string> fields = audit::journal_fields(
      R"({"time":"2026-11-29T10:02:11.520113Z","event":"connect-denied","unit":"web.service",)"
      R"("invocation":"0123456789abcdef0123456789abcdef","pid":4121,"comm":"curl",)"
      R"("family":"ipv4","protocol":"tcp","daddr":"10.9.8.7","dport":443,"count":1})");
  EXPECT_TRUE(has(fields, "RINGFENCE_EVENT=connect-denied"));
  EXPECT_TRUE(has(fields, "RINGFENCE_UNIT=web.service"));
  EXPECT_TRUE(has(fields, "RINGFENCE_INVOCATION=0123456789abcdef0123456789abcdef"));
  EXPECT_TRUE(has(fields, "RINGFENCE_PID=4121"));
  EXPECT_TRUE(has(fields, "RINGFENCE_DADDR=10.9.8.7"));
  EXPECT_TRUE(has(fields, "RINGFENCE_DPORT=443"));
  EXPECT_TRUE(has(fields, "RINGFENCE_COUNT=1"));
  EXPECT_TRUE(has(fields, "MESSAGE_ID=" + std::string(audit::message_id("connect-denied"))));
  EXPECT_TRUE(has(fields, "PRIORITY=5"));
  EXPECT_TRUE(has(fields, "SYSLOG_IDENTIFIER=ringfence"));
  EXPECT_TRUE(has(fields, "MESSAGE=web.service: connect-denied pid=4121 comm=curl family=ipv4 "
                          "protocol=tcp daddr=10.9.8.7 dport=443 count=1"));
}

TEST(JournalFields, NestedValuesAreLeftToTheFileAndRoutineEventsAreInfo) {
  std::vector<std::string> fields = audit::journal_fields(
      R"({"time":"t","event":"start","unit":"a.service","invocation":"i","pid":1,"comm":"sh",)"
      R"("command":["/bin/sh","-c","echo \"x\""],"cgroup":"/ringfence/a.service-i"})");
  EXPECT_TRUE(has(fields, "RINGFENCE_CGROUP=/ringfence/a.service-i"));
  EXPECT_TRUE(std::none_of(fields.begin(), fields.end(),
                           [](const std::string &f) { return f.rfind("RINGFENCE_COMMAND", 0) == 0; }));
  EXPECT_TRUE(has(fields, "PRIORITY=6"));
}

TEST(JournalFields, EveryEventHasItsOwnMessageId) {
  std::vector<std::string_view> ids;
  for (const char *event : {"start", "exit", "connect-denied", "sendmsg-denied", "packet-dropped",
                            "syscall-denied", "syscall-logged", "denied-unattributed"}) {
    std::string_view id = audit::message_id(event);
    EXPECT_EQ(id.size(), 32u) << event;
    ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end());
}

// In a child: a private /run with a datagram socket at the journal's path, then a run with
// one refused connect; the datagrams received go to `out`. Returns the child's status.
int run_with_stand_in_journal(const std::string &out, const std::string &audit_log,
                              const std::string &cgroup_parent) {
  pid_t child = ::fork();
  if (child == 0) {
    if (::unshare(CLONE_NEWNS) < 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0 ||
        ::mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") < 0 ||
        ::mkdir("/run/systemd", 0755) < 0 || ::mkdir("/run/systemd/journal", 0755) < 0)
      ::_exit(90);
    int journal = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, "/run/systemd/journal/socket");
    if (::bind(journal, reinterpret_cast<sockaddr *>(&address), sizeof address) < 0)
      ::_exit(91);
    test::CommandResult run = test::run_command(
        {test::ringfence_bin(), "run", "--audit-log", audit_log, "--cgroup-parent", cgroup_parent,
         "-p", "IPAddressDeny=127.0.0.2",
         "--", "python3", "-c",
         "import socket\ntry: socket.socket().connect(('127.0.0.2', 7))\nexcept OSError: pass\n"});
    if (run.status != 0)
      ::_exit(92);
    std::string received;
    char buffer[65536];
    ssize_t n;
    while ((n = ::recv(journal, buffer, sizeof buffer, MSG_DONTWAIT)) > 0)
      received.append(buffer, static_cast<std::size_t>(n)).push_back('\0');
    test::write_file(out, received);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(JournalSink, RunSendsItsRecordsToTheJournalWhereOneRuns) {
  RF_REQUIRE_ROOT();
  test::TempDir dir;
  std::string parent = "/ringfence-test-journal-" + std::to_string(::getpid());
  int status = run_with_stand_in_journal(dir / "journal", dir / "audit.jsonl", parent);
  Result<std::string> mount = cgroup::find_cgroup2_mount();
  if (mount) // the run removed its own cgroup; the parent it created is left, empty
    ::rmdir((*mount + parent).c_str());
  ASSERT_EQ(status, 0);
  std::string received = test::read_file(dir / "journal");
  for (const char *event : {"start", "connect-denied", "exit"})
    EXPECT_NE(received.find("MESSAGE_ID=" + std::string(audit::message_id(event))),
              std::string::npos)
        << event << " in:\n" << received;
  EXPECT_NE(received.find("RINGFENCE_DADDR=127.0.0.2"), std::string::npos);
  EXPECT_NE(received.find("SYSLOG_IDENTIFIER=ringfence"), std::string::npos);
}

} // namespace
