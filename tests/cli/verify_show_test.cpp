// `ringfence verify` and `ringfence show`, through the built binary.
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using rf::test::CommandResult;
using rf::test::run_command;
using rf::test::TempDir;
using rf::test::write_file;

namespace {

// A unit directory and a policy directory in a TempDir, used through the environment.
struct Env {
  TempDir tmp;
  std::string units = tmp / "units";
  std::string policies = tmp / "policies";

  Env() {
    write_file(units + "/.keep", "");
    write_file(policies + "/.keep", "");
  }
  CommandResult run(const std::vector<std::string> &args) const {
    std::vector<std::string> argv;
    argv.reserve(args.size() + 1);
    argv.push_back(rf::test::ringfence_bin());
    for (const auto &a : args)
      argv.push_back(a);
    return run_command(argv, {"RINGFENCE_UNIT_PATH=" + units,
                              "RINGFENCE_POLICY_PATH=" + policies});
  }
};

bool has_line(const std::string &out, const std::string &line) {
  return ("\n" + out).find("\n" + line + "\n") != std::string::npos;
}

int count(const std::string &s, const std::string &what) {
  int n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1))
    ++n;
  return n;
}

// Structural check of one JSON value without a JSON library: balanced brackets outside
// strings, nothing after the closing brace but a newline.
bool is_one_json_object(const std::string &s) {
  std::string t = s;
  if (!t.empty() && t.back() == '\n')
    t.pop_back();
  if (t.empty() || t.front() != '{' || t.back() != '}' || t.find('\n') != std::string::npos)
    return false;
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[')
      ++depth;
    else if (c == '}' || c == ']')
      --depth;
    if (depth == 0 && i + 1 != t.size())
      return false;
  }
  return depth == 0 && !in_string;
}

} // namespace

// ---- verify ----

TEST(VerifyCommand, ValidUnitExitsZeroAndPrintsNoError) {
  Env e;
  write_file(e.units + "/web.service", "[Service]\nExecStart=/bin/true\nIPAddressDeny=any\n");
  auto r = e.run({"verify", "web.service"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err.find("error"), std::string::npos) << r.err;
}

TEST(VerifyCommand, FindsBareNameOnTheUnitPath) {
  Env e;
  write_file(e.units + "/web.service", "[Service]\nExecStart=/bin/true\n");
  auto r = e.run({"verify", "web"});
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST(VerifyCommand, ReportsEveryErrorOfEveryFileAndExitsOne) {
  Env e;
  std::string a = e.units + "/a.service", b = e.tmp / "elsewhere/b.service",
              ok = e.units + "/ok.service";
  write_file(a, "[Service]\nExecStart=/bin/true\nBogus=1\nIPAddressDeny=10.0.0.0/40\n");
  write_file(b, "[Service]\nExecStart=/bin/true\nCapabilityBoundingSet=CAP_FOO\n");
  write_file(ok, "[Service]\nExecStart=/bin/true\n");
  auto r = e.run({"verify", "a.service", b, "ok"});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(has_line(r.err, a + ":3: error: unknown directive Bogus= in [Service]")) << r.err;
  EXPECT_NE(r.err.find(a + ":4: error: invalid prefix length in '10.0.0.0/40'"), std::string::npos)
      << r.err;
  EXPECT_TRUE(has_line(r.err, b + ":3: error: unknown capability 'CAP_FOO'")) << r.err;
  EXPECT_EQ(r.err.find(ok), std::string::npos) << r.err;
  EXPECT_EQ(count(r.err, ": error: "), 3) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(VerifyCommand, EveryErrorLineHasTheFileLineErrorFormat) {
  Env e;
  std::string a = e.units + "/a.service";
  write_file(a, "[Service]\nExecStart=/bin/true\nUser=-x\nUMask=9\nNoNewPrivileges=no\n");
  auto r = e.run({"verify", a});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(count(r.err, "\n"), 3) << r.err;
  EXPECT_NE(r.err.find(a + ":3: error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(a + ":4: error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(a + ":5: error: "), std::string::npos) << r.err;
}

TEST(VerifyCommand, MissingUnitIsAnError) {
  Env e;
  auto r = e.run({"verify", "nope.service"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("nope.service: error: unit not found"), std::string::npos) << r.err;
}

TEST(VerifyCommand, WarningsAloneExitZero) {
  Env e;
  std::string a = e.units + "/a.service";
  write_file(a, "[Service]\nExecStart=/bin/true\nExecStartPre=/bin/true\n");
  auto r = e.run({"verify", "a"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find(a + ":3: warning: ExecStartPre="), std::string::npos) << r.err;
}

TEST(VerifyCommand, ReportsErrorsInDropInsAndPolicies) {
  Env e;
  write_file(e.units + "/web.service", "[Service]\nExecStart=/bin/true\nPolicy=p\n");
  write_file(e.units + "/web.service.d/x.conf", "[Service]\nProtectSystem=strict\n");
  write_file(e.policies + "/p.policy", "[Service]\nExecStart=/bin/sh\n");
  auto r = e.run({"verify", "web"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(e.units + "/web.service.d/x.conf:2: error: ProtectSystem="),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(e.policies + "/p.policy:2: error: ExecStart= is not a sandbox directive"),
            std::string::npos)
      << r.err;
}

TEST(VerifyCommand, OverrideErrorsNameTheCommandLine) {
  Env e;
  write_file(e.units + "/web.service", "[Service]\nExecStart=/bin/true\n");
  auto r = e.run({"verify", "-p", "User=ok", "-p", "IPAddressDeny=nonsense", "web"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("<command line>:2: error: invalid IP address prefix 'nonsense'"),
            std::string::npos)
      << r.err;
}

TEST(VerifyCommand, RefusesAGroupWritableUnit) {
  Env e;
  std::string a = e.units + "/a.service";
  write_file(a, "[Service]\nExecStart=/bin/true\n", 0664);
  auto r = e.run({"verify", "a"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("error: refusing to trust " + a), std::string::npos) << r.err;
}

TEST(VerifyCommand, NeedsAUnit) {
  Env e;
  auto r = e.run({"verify"});
  EXPECT_EQ(r.status, 2);
}

// ---- show ----

TEST(ShowCommand, PrintsEffectiveLinesWithTheirOrigin) {
  Env e;
  std::string unit = e.units + "/web.service";
  write_file(unit, "[Unit]\nDescription=web\n[Service]\nExecStart=/bin/true\nUser=alice\n"
                   "IPAddressDeny=10.0.0.0/8\n");
  auto r = e.run({"show", "web"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(has_line(r.out, "[Service]")) << r.out;
  EXPECT_TRUE(has_line(r.out, "ExecStart=/bin/true  # " + unit + ":4")) << r.out;
  EXPECT_TRUE(has_line(r.out, "User=alice  # " + unit + ":5")) << r.out;
  EXPECT_TRUE(has_line(r.out, "IPAddressDeny=10.0.0.0/8  # " + unit + ":6")) << r.out;
  EXPECT_EQ(r.out.find("Description="), std::string::npos) << r.out; // no protection, not shown
}

TEST(ShowCommand, ReflectsDropInsPoliciesAndOverrides) {
  Env e;
  std::string unit = e.units + "/web.service";
  std::string dropin = e.units + "/web.service.d/10-net.conf";
  std::string policy = e.policies + "/hard.policy";
  write_file(unit, "[Service]\nExecStart=/bin/true\nIPAddressDeny=10.0.0.0/8\nUser=alice\n"
                   "Policy=hard\n");
  write_file(dropin, "[Service]\nIPAddressDeny=\nIPAddressDeny=any\nIPAddressAllow=localhost\n");
  write_file(policy, "[Service]\nLockPersonality=yes\nSystemCallErrorNumber=EPERM\n");
  auto r = e.run({"show", "web", "-p", "User=bob", "-p", "SystemCallErrorNumber=EACCES"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("# drop-in: " + dropin), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("# policy: " + policy), std::string::npos) << r.out;
  // The drop-in's reset removed the unit's line; its own lines stand.
  EXPECT_EQ(r.out.find("10.0.0.0/8"), std::string::npos) << r.out;
  EXPECT_TRUE(has_line(r.out, "IPAddressDeny=any  # " + dropin + ":3")) << r.out;
  EXPECT_TRUE(has_line(r.out, "IPAddressAllow=localhost  # " + dropin + ":4")) << r.out;
  EXPECT_TRUE(has_line(r.out, "LockPersonality=yes  # " + policy + ":2")) << r.out;
  // -p overrides come last and win.
  EXPECT_TRUE(has_line(r.out, "User=bob  # <command line>:1")) << r.out;
  EXPECT_TRUE(has_line(r.out, "SystemCallErrorNumber=EACCES  # <command line>:2")) << r.out;
  EXPECT_EQ(r.out.find("User=alice"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("SystemCallErrorNumber=EPERM"), std::string::npos) << r.out;
}

TEST(ShowCommand, ListKeysShowEveryLineSinceTheLastReset) {
  Env e;
  std::string unit = e.units + "/web.service";
  write_file(unit, "[Service]\nExecStart=/bin/true\nIPAddressDeny=10.0.0.0/8\n"
                   "IPAddressDeny=10.1.0.0/16\n");
  auto r = e.run({"show", "web", "-p", "IPAddressDeny=10.2.0.0/16"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(has_line(r.out, "IPAddressDeny=10.0.0.0/8  # " + unit + ":3")) << r.out;
  EXPECT_TRUE(has_line(r.out, "IPAddressDeny=10.1.0.0/16  # " + unit + ":4")) << r.out;
  EXPECT_TRUE(has_line(r.out, "IPAddressDeny=10.2.0.0/16  # <command line>:1")) << r.out;
  auto reset = e.run({"show", "web", "-p", "IPAddressDeny="});
  ASSERT_EQ(reset.status, 0) << reset.err;
  EXPECT_EQ(reset.out.find("IPAddressDeny="), std::string::npos) << reset.out;
}

TEST(ShowCommand, JsonIsOneObject) {
  Env e;
  std::string unit = e.units + "/web.service";
  write_file(unit, "[Service]\nExecStart=/bin/echo \"a b\"\nIPAddressDeny=any\n"
                   "SystemCallFilter=~mount:EBADF\n");
  auto r = e.run({"show", "web", "--json", "-p", "User=bob"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(is_one_json_object(r.out)) << r.out;
  EXPECT_NE(r.out.find("\"unit\":\"web.service\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"fragment\":\"" + unit + "\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("{\"key\":\"IPAddressDeny\",\"value\":\"any\",\"file\":\"" + unit +
                       "\",\"line\":3}"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("{\"key\":\"User\",\"value\":\"bob\",\"file\":\"<command line>\","
                       "\"line\":1}"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\"value\":\"/bin/echo \\\"a b\\\"\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"ip_address_deny\":[\"0.0.0.0/0\",\"::/0\"]"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\"argv\":[\"/bin/echo\",\"a b\"]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"mount\":\"EBADF\""), std::string::npos) << r.out;
}

TEST(ShowCommand, JsonOptionBeforeTheUnit) {
  Env e;
  write_file(e.units + "/web.service", "[Service]\nExecStart=/bin/true\n");
  auto r = e.run({"show", "--json", "web"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(is_one_json_object(r.out)) << r.out;
}

TEST(ShowCommand, InvalidUnitPrintsErrorsAndNoPolicy) {
  Env e;
  std::string unit = e.units + "/web.service";
  write_file(unit, "[Service]\nExecStart=/bin/true\nBogus=1\n");
  auto r = e.run({"show", "web"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(unit + ":3: error: unknown directive Bogus="), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(ShowCommand, TakesExactlyOneUnit) {
  Env e;
  write_file(e.units + "/a.service", "[Service]\nExecStart=/bin/true\n");
  EXPECT_EQ(e.run({"show", "a", "a"}).status, 2);
  EXPECT_EQ(e.run({"show"}).status, 2);
}

TEST(Cli, HelpAndVersion) {
  Env e;
  auto help = e.run({"--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("ringfence verify"), std::string::npos);
  auto version = e.run({"--version"});
  EXPECT_EQ(version.status, 0);
  EXPECT_EQ(version.out.rfind("ringfence ", 0), 0u) << version.out;
}
