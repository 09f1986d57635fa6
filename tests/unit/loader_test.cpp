// Finding a unit, its drop-ins and its Policy= fragments, and the trust check.
#include "unit/loader.hpp"

#include "policy/ip_prefix.hpp"
#include "test_support.hpp"
#include "unit/directives.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <vector>

using namespace rf;
using namespace rf::unit;
using rf::test::TempDir;
using rf::test::write_file;
using Strings = std::vector<std::string>;

namespace {

std::string dump(const Diagnostics &diags) {
  std::string s;
  for (const auto &d : diags.items())
    s += d.str() + "\n";
  return s;
}

std::vector<Diagnostic> errors_of(const Diagnostics &diags) {
  std::vector<Diagnostic> out;
  for (const auto &d : diags.items())
    if (d.severity == Diagnostic::Severity::error)
      out.push_back(d);
  return out;
}

// A unit tree in a TempDir: units/{a,b}, policies/.
struct Tree {
  TempDir tmp;
  std::string a = tmp / "units-a"; // higher priority
  std::string b = tmp / "units-b";
  std::string policies = tmp / "policies";
  SearchPaths paths{{a, b}, {policies}};

  void unit(const std::string &dir, const std::string &rel, const std::string &text,
            int mode = 0644) {
    write_file(dir + "/" + rel, text, mode);
  }
  void policy(const std::string &name, const std::string &text, int mode = 0644) {
    write_file(policies + "/" + name + ".policy", text, mode);
  }
};

struct Loaded {
  LoadedUnit unit;
  Diagnostics diags;
  std::optional<BuiltPolicy> built;
};

Loaded load(const Tree &t, const std::string &name, Strings overrides = {}) {
  Loaded l;
  l.unit = load_unit({name, "", std::move(overrides)}, t.paths, l.diags);
  return l;
}

Loaded load_and_build(const Tree &t, const std::string &name, Strings overrides = {}) {
  Loaded l = load(t, name, std::move(overrides));
  l.built = build_policy(l.unit, {}, l.diags);
  return l;
}

Strings origins(const LoadedUnit &u, const std::string &key) {
  Strings out;
  for (const auto &a : u.assignments)
    if (a.key == key)
      out.push_back(a.origin.str());
  return out;
}

Strings values(const LoadedUnit &u, const std::string &key) {
  Strings out;
  for (const auto &a : u.assignments)
    if (a.key == key)
      out.push_back(a.value);
  return out;
}

Strings prefixes(const std::vector<IpPrefix> &list) {
  Strings out;
  for (const auto &p : list)
    out.push_back(format_prefix(p));
  return out;
}

const char *kUnit = "[Service]\nExecStart=/bin/true\n";

// Sets or unsets an environment variable for one test, restoring it afterwards.
class ScopedEnv {
public:
  ScopedEnv(const char *name, const char *value) : name_(name) {
    if (const char *old = std::getenv(name))
      old_ = old;
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

private:
  const char *name_;
  std::optional<std::string> old_;
};

} // namespace

// ---- search path ----

TEST(Loader, BareNameFindsDotService) {
  Tree t;
  t.unit(t.b, "web.service", kUnit);
  auto l = load(t, "web");
  EXPECT_FALSE(l.diags.has_errors()) << dump(l.diags);
  EXPECT_EQ(l.unit.name.full, "web.service");
  EXPECT_EQ(l.unit.fragment, t.b + "/web.service");
  EXPECT_EQ(values(l.unit, "ExecStart"), (Strings{"/bin/true"}));
}

TEST(Loader, HigherPriorityDirectoryWins) {
  Tree t;
  t.unit(t.a, "web.service", "[Service]\nExecStart=/bin/a\n");
  t.unit(t.b, "web.service", "[Service]\nExecStart=/bin/b\n");
  auto l = load(t, "web.service");
  EXPECT_EQ(l.unit.fragment, t.a + "/web.service");
  EXPECT_EQ(values(l.unit, "ExecStart"), (Strings{"/bin/a"}));
}

TEST(Loader, MissingUnitIsAnErrorNamingTheSearchPath) {
  Tree t;
  auto l = load(t, "nope");
  auto errors = errors_of(l.diags);
  ASSERT_EQ(errors.size(), 1u) << dump(l.diags);
  EXPECT_NE(errors[0].message.find("not found"), std::string::npos);
  EXPECT_NE(errors[0].message.find(t.a), std::string::npos);
  EXPECT_EQ(errors[0].origin.file, "nope.service");
}

TEST(Loader, OtherUnitTypeIsRefused) {
  Tree t;
  auto l = load(t, "x.socket");
  ASSERT_TRUE(l.diags.has_errors());
  EXPECT_NE(dump(l.diags).find("not a service unit"), std::string::npos) << dump(l.diags);
}

TEST(Loader, UnitByPath) {
  Tree t;
  std::string path = t.tmp / "elsewhere/x.service";
  write_file(path, kUnit);
  auto l = load(t, path);
  EXPECT_FALSE(l.diags.has_errors()) << dump(l.diags);
  EXPECT_EQ(l.unit.name.full, "x.service");
  EXPECT_EQ(l.unit.fragment, path);
}

TEST(Loader, MissingUnitByPathIsAnError) {
  Tree t;
  auto l = load(t, t.tmp / "none/x.service");
  ASSERT_TRUE(l.diags.has_errors());
  EXPECT_NE(dump(l.diags).find("no such unit file"), std::string::npos) << dump(l.diags);
}

TEST(Loader, InstanceUsesTemplateFile) {
  Tree t;
  t.unit(t.b, "getty@.service", "[Service]\nExecStart=/sbin/agetty %I\n");
  auto l = load_and_build(t, "getty@tty1");
  EXPECT_FALSE(l.diags.has_errors()) << dump(l.diags);
  EXPECT_EQ(l.unit.name.full, "getty@tty1.service");
  EXPECT_EQ(l.unit.fragment, t.b + "/getty@.service");
  ASSERT_EQ(l.built->policy.exec_start.size(), 1u);
  EXPECT_EQ(l.built->policy.exec_start[0].argv, (Strings{"/sbin/agetty", "tty1"}));
}

TEST(Loader, InstanceFileBeatsTemplateInAnyDirectory) {
  Tree t;
  t.unit(t.a, "getty@.service", "[Service]\nExecStart=/bin/template\n");
  t.unit(t.b, "getty@tty1.service", "[Service]\nExecStart=/bin/instance\n");
  auto l = load(t, "getty@tty1.service");
  EXPECT_EQ(l.unit.fragment, t.b + "/getty@tty1.service");
}

// ---- drop-ins ----

TEST(Loader, DropInsApplyInLexicographicOrderAcrossDirectories) {
  Tree t;
  t.unit(t.b, "web.service", "[Service]\nExecStart=/bin/true\nEnvironment=S=unit\n");
  t.unit(t.a, "web.service.d/20-b.conf", "[Service]\nEnvironment=S=20-from-a\n");
  t.unit(t.b, "web.service.d/10-a.conf", "[Service]\nEnvironment=S=10-from-b\n");
  t.unit(t.b, "web.service.d/20-b.conf", "[Service]\nEnvironment=S=20-from-b\n");
  t.unit(t.b, "web.service.d/30-c.conf", "[Service]\nEnvironment=S=30-from-b\n");
  auto l = load(t, "web");
  EXPECT_FALSE(l.diags.has_errors()) << dump(l.diags);
  EXPECT_EQ(l.unit.dropins, (Strings{t.b + "/web.service.d/10-a.conf",
                                     t.a + "/web.service.d/20-b.conf",
                                     t.b + "/web.service.d/30-c.conf"}));
  EXPECT_EQ(values(l.unit, "Environment"),
            (Strings{"S=unit", "S=10-from-b", "S=20-from-a", "S=30-from-b"}));
}

TEST(Loader, DropInsComeFromEveryDirectoryEvenWithoutTheUnitThere) {
  Tree t;
  t.unit(t.b, "web.service", kUnit);
  t.unit(t.a, "web.service.d/override.conf", "[Service]\nUser=nobody\n");
  auto l = load_and_build(t, "web");
  EXPECT_FALSE(l.diags.has_errors()) << dump(l.diags);
  EXPECT_EQ(l.built->policy.user.value_or(""), "nobody");
}

TEST(Loader, OnlyConfFilesAreDropIns) {
  Tree t;
  t.unit(t.a, "web.service", kUnit);
  t.unit(t.a, "web.service.d/a.conf", "[Service]\nUser=a\n");
  t.unit(t.a, "web.service.d/b.conf.bak", "[Service]\nUser=bak\n");
  t.unit(t.a, "web.service.d/README", "not a unit file\n");
  auto l = load(t, "web");
  EXPECT_FALSE(l.diags.has_errors()) << dump(l.diags);
  EXPECT_EQ(l.unit.dropins, (Strings{t.a + "/web.service.d/a.conf"}));
}

TEST(Loader, DropInOverridesAndResetsTheUnit) {
  Tree t;
  t.unit(t.b, "web.service",
         "[Service]\nExecStart=/bin/old\nIPAddressDeny=10.0.0.0/8\nUser=alice\n");
  t.unit(t.a, "web.service.d/override.conf",
         "[Service]\nExecStart=\nExecStart=/bin/new\nIPAddressDeny=\nIPAddressDeny=any\n"
         "User=bob\n");
  auto l = load_and_build(t, "web");
  EXPECT_FALSE(l.diags.has_errors()) << dump(l.diags);
  const auto &p = l.built->policy;
  ASSERT_EQ(p.exec_start.size(), 1u);
  EXPECT_EQ(p.exec_start[0].argv[0], "/bin/new");
  EXPECT_EQ(prefixes(p.ip_deny), (Strings{"0.0.0.0/0", "::/0"}));
  EXPECT_EQ(p.user.value_or(""), "bob");
}

TEST(Loader, DropInErrorsNameTheDropInFileAndLine) {
  Tree t;
  t.unit(t.a, "web.service", kUnit);
  t.unit(t.a, "web.service.d/bad.conf", "[Service]\n\nBogus=1\n");
  auto l = load_and_build(t, "web");
  auto errors = errors_of(l.diags);
  ASSERT_EQ(errors.size(), 1u) << dump(l.diags);
  EXPECT_EQ(errors[0].origin.str(), t.a + "/web.service.d/bad.conf:3");
}

TEST(Loader, TemplateDropInsApplyToInstances) {
  Tree t;
  t.unit(t.a, "foo@.service", kUnit);
  t.unit(t.a, "foo@.service.d/10-template.conf", "[Service]\nEnvironment=T=1\n");
  t.unit(t.b, "foo@bar.service.d/20-instance.conf", "[Service]\nEnvironment=I=1\n");
  auto l = load(t, "foo@bar");
  EXPECT_FALSE(l.diags.has_errors()) << dump(l.diags);
  EXPECT_EQ(l.unit.dropins, (Strings{t.a + "/foo@.service.d/10-template.conf",
                                     t.b + "/foo@bar.service.d/20-instance.conf"}));
  EXPECT_EQ(values(l.unit, "Environment"), (Strings{"T=1", "I=1"}));
  // Another instance gets the template's drop-in only.
  auto other = load(t, "foo@baz");
  EXPECT_EQ(other.unit.dropins, (Strings{t.a + "/foo@.service.d/10-template.conf"}));
}

// systemd: within one directory, the instance's own drop-in replaces the template's
// same-named one.
TEST(Loader, InstanceDropInReplacesSameNamedTemplateDropIn) {
  Tree t;
  t.unit(t.a, "foo@.service", kUnit);
  t.unit(t.a, "foo@.service.d/50-user.conf", "[Service]\nUser=template\n");
  t.unit(t.a, "foo@bar.service.d/50-user.conf", "[Service]\nUser=instance\n");
  auto l = load_and_build(t, "foo@bar");
  EXPECT_FALSE(l.diags.has_errors()) << dump(l.diags);
  EXPECT_EQ(l.unit.dropins, (Strings{t.a + "/foo@bar.service.d/50-user.conf"}));
  EXPECT_EQ(l.built->policy.user.value_or(""), "instance");
}

TEST(Loader, DropInsBesideAUnitGivenByPath) {
  Tree t;
  std::string dir = t.tmp / "here";
  write_file(dir + "/x.service", kUnit);
  write_file(dir + "/x.service.d/user.conf", "[Service]\nUser=nobody\n");
  auto l = load(t, dir + "/x.service");
  EXPECT_FALSE(l.diags.has_errors()) << dump(l.diags);
  EXPECT_EQ(l.unit.dropins, (Strings{dir + "/x.service.d/user.conf"}));
}

// ---- Policy= ----

TEST(Loader, PolicyIsIncludedAtThePointItAppears) {
  Tree t;
  t.policy("net", "[Service]\n# comment\nIPAddressDeny=any\nIPAddressAllow=localhost\n");
  t.unit(t.a, "web.service",
         "[Service]\nExecStart=/bin/true\nIPAddressDeny=10.0.0.0/8\nPolicy=net\n"
         "IPAddressDeny=\nIPAddressDeny=192.168.0.0/16\n");
  auto l = load_and_build(t, "web");
  EXPECT_FALSE(l.diags.has_errors()) << dump(l.diags);
  std::string unit = t.a + "/web.service", frag = t.policies + "/net.policy";
  EXPECT_EQ(origins(l.unit, "IPAddressDeny"),
            (Strings{unit + ":3", frag + ":3", unit + ":5", unit + ":6"}));
  EXPECT_EQ(l.unit.policies, (Strings{frag}));
  // The unit's reset after Policy= clears what the fragment set; the allow list stays.
  EXPECT_EQ(prefixes(l.built->policy.ip_deny), (Strings{"192.168.0.0/16"}));
  EXPECT_EQ(prefixes(l.built->policy.ip_allow), (Strings{"127.0.0.0/8", "::1/128"}));
}

TEST(Loader, PolicyLineIsNotItselfAnAssignment) {
  Tree t;
  t.policy("p", "[Service]\nLockPersonality=yes\n");
  t.unit(t.a, "web.service", "[Service]\nExecStart=/bin/true\nPolicy=p\n");
  auto l = load(t, "web");
  EXPECT_TRUE(values(l.unit, "Policy").empty());
  EXPECT_EQ(values(l.unit, "LockPersonality"), (Strings{"yes"}));
}

TEST(Loader, SeveralPoliciesOnOneLineApplyInOrder) {
  Tree t;
  t.policy("one", "[Service]\nEnvironment=P=one\n");
  t.policy("two", "[Service]\nEnvironment=P=two\n");
  t.unit(t.a, "web.service", "[Service]\nExecStart=/bin/true\nPolicy=two one\n");
  auto l = load(t, "web");
  EXPECT_FALSE(l.diags.has_errors()) << dump(l.diags);
  EXPECT_EQ(values(l.unit, "Environment"), (Strings{"P=two", "P=one"}));
}

TEST(Loader, NestedPoliciesAreIncluded) {
  Tree t;
  t.policy("outer", "[Service]\nEnvironment=O=1\nPolicy=inner\nEnvironment=O=2\n");
  t.policy("inner", "[Service]\nEnvironment=I=1\n");
  t.unit(t.a, "web.service", "[Service]\nExecStart=/bin/true\nPolicy=outer\n");
  auto l = load(t, "web");
  EXPECT_FALSE(l.diags.has_errors()) << dump(l.diags);
  EXPECT_EQ(values(l.unit, "Environment"), (Strings{"O=1", "I=1", "O=2"}));
  EXPECT_EQ(l.unit.policies,
            (Strings{t.policies + "/outer.policy", t.policies + "/inner.policy"}));
}

TEST(Loader, SameFragmentTwiceIsNotACycle) {
  Tree t;
  t.policy("base", "[Service]\nLockPersonality=yes\n");
  t.policy("a", "[Service]\nPolicy=base\n");
  t.policy("b", "[Service]\nPolicy=base\n");
  t.unit(t.a, "web.service", "[Service]\nExecStart=/bin/true\nPolicy=a b\n");
  auto l = load(t, "web");
  EXPECT_FALSE(l.diags.has_errors()) << dump(l.diags);
  EXPECT_EQ(values(l.unit, "LockPersonality").size(), 2u);
}

TEST(Loader, IncludeCycleIsAnErrorAtThePolicyLine) {
  Tree t;
  t.policy("a", "[Service]\nPolicy=b\n");
  t.policy("b", "[Service]\nIPAddressDeny=any\nPolicy=a\n");
  t.unit(t.a, "web.service", "[Service]\nExecStart=/bin/true\nPolicy=a\n");
  auto l = load(t, "web");
  auto errors = errors_of(l.diags);
  ASSERT_EQ(errors.size(), 1u) << dump(l.diags);
  EXPECT_EQ(errors[0].origin.str(), t.policies + "/b.policy:3");
  EXPECT_NE(errors[0].message.find("cycle"), std::string::npos) << errors[0].str();
}

TEST(Loader, SelfIncludeIsACycle) {
  Tree t;
  t.policy("self", "[Service]\n\nPolicy=self\n");
  t.unit(t.a, "web.service", "[Service]\nExecStart=/bin/true\nPolicy=self\n");
  auto l = load(t, "web");
  auto errors = errors_of(l.diags);
  ASSERT_EQ(errors.size(), 1u) << dump(l.diags);
  EXPECT_EQ(errors[0].origin.str(), t.policies + "/self.policy:3");
  EXPECT_NE(errors[0].message.find("Policy=self"), std::string::npos) << errors[0].str();
}

TEST(Loader, MissingPolicyIsAnErrorAtThePolicyLine) {
  Tree t;
  t.unit(t.a, "web.service", "[Service]\nExecStart=/bin/true\n\nPolicy=nope\n");
  auto l = load(t, "web");
  auto errors = errors_of(l.diags);
  ASSERT_EQ(errors.size(), 1u) << dump(l.diags);
  EXPECT_EQ(errors[0].origin.str(), t.a + "/web.service:4");
  EXPECT_NE(errors[0].message.find("policy 'nope' not found"), std::string::npos);
  EXPECT_NE(errors[0].message.find(t.policies), std::string::npos);
}

TEST(Loader, MissingNestedPolicyIsAnErrorInTheFragment) {
  Tree t;
  t.policy("outer", "[Service]\nPolicy=gone\n");
  t.unit(t.a, "web.service", "[Service]\nExecStart=/bin/true\nPolicy=outer\n");
  auto l = load(t, "web");
  auto errors = errors_of(l.diags);
  ASSERT_EQ(errors.size(), 1u) << dump(l.diags);
  EXPECT_EQ(errors[0].origin.str(), t.policies + "/outer.policy:2");
}

TEST(Loader, EmptyOrBadPolicyNameIsAnError) {
  Tree t;
  t.unit(t.a, "web.service", "[Service]\nExecStart=/bin/true\nPolicy=\nPolicy=../etc/x\n");
  auto l = load(t, "web");
  auto errors = errors_of(l.diags);
  ASSERT_EQ(errors.size(), 2u) << dump(l.diags);
  EXPECT_EQ(errors[0].origin.line, 3);
  EXPECT_EQ(errors[1].origin.line, 4);
  EXPECT_NE(errors[1].message.find("invalid policy name"), std::string::npos);
}

TEST(Loader, PolicyFragmentMayOnlyHaveAServiceSection) {
  Tree t;
  t.policy("p", "[Unit]\nDescription=x\n[Service]\nLockPersonality=yes\n");
  t.unit(t.a, "web.service", "[Service]\nExecStart=/bin/true\nPolicy=p\n");
  auto l = load(t, "web");
  auto errors = errors_of(l.diags);
  ASSERT_EQ(errors.size(), 1u) << dump(l.diags);
  EXPECT_EQ(errors[0].origin.str(), t.policies + "/p.policy:2");
  EXPECT_EQ(values(l.unit, "LockPersonality"), (Strings{"yes"}));
}

TEST(Loader, PolicyFragmentWithExecStartIsAnError) {
  Tree t;
  t.policy("p", "[Service]\nExecStart=/bin/evil\n");
  t.unit(t.a, "web.service", "[Service]\nExecStart=/bin/true\nPolicy=p\n");
  auto l = load_and_build(t, "web");
  auto errors = errors_of(l.diags);
  ASSERT_EQ(errors.size(), 1u) << dump(l.diags);
  EXPECT_EQ(errors[0].origin.str(), t.policies + "/p.policy:2");
  EXPECT_NE(errors[0].message.find("not a sandbox directive"), std::string::npos);
  EXPECT_EQ(l.built->policy.exec_start.size(), 1u);
}

TEST(Loader, PolicyNamesTakeSpecifiers) {
  Tree t;
  t.policy("web-net", "[Service]\nIPAddressDeny=any\n");
  t.unit(t.a, "web.service", "[Service]\nExecStart=/bin/true\nPolicy=%p-net\n");
  auto l = load(t, "web");
  EXPECT_FALSE(l.diags.has_errors()) << dump(l.diags);
  EXPECT_EQ(l.unit.policies, (Strings{t.policies + "/web-net.policy"}));
  t.unit(t.a, "bad.service", "[Service]\nExecStart=/bin/true\nPolicy=%x\n");
  auto bad = load(t, "bad");
  auto errors = errors_of(bad.diags);
  ASSERT_EQ(errors.size(), 1u) << dump(bad.diags);
  EXPECT_EQ(errors[0].origin.line, 3);
}

TEST(Loader, PolicyInADropIn) {
  Tree t;
  t.policy("p", "[Service]\nIPAddressDeny=any\n");
  t.unit(t.a, "web.service", kUnit);
  t.unit(t.a, "web.service.d/sandbox.conf", "[Service]\nPolicy=p\n");
  auto l = load_and_build(t, "web");
  EXPECT_FALSE(l.diags.has_errors()) << dump(l.diags);
  EXPECT_EQ(prefixes(l.built->policy.ip_deny), (Strings{"0.0.0.0/0", "::/0"}));
}

TEST(Loader, FirstPolicyDirectoryWins) {
  Tree t;
  std::string high = t.tmp / "policies-high";
  t.paths.policies.insert(t.paths.policies.begin(), high);
  write_file(high + "/p.policy", "[Service]\nEnvironment=FROM=high\n");
  t.policy("p", "[Service]\nEnvironment=FROM=low\n");
  t.unit(t.a, "web.service", "[Service]\nExecStart=/bin/true\nPolicy=p\n");
  auto l = load(t, "web");
  EXPECT_EQ(values(l.unit, "Environment"), (Strings{"FROM=high"}));
}

TEST(Loader, PoliciesBesideAUnitGivenByPath) {
  ScopedEnv env("RINGFENCE_POLICY_PATH", nullptr);
  TempDir tmp;
  write_file(tmp / "policies/p.policy", "[Service]\nLockPersonality=yes\n");
  write_file(tmp / "units/x.service", "[Service]\nExecStart=/bin/true\nPolicy=p\n");
  Diagnostics diags;
  auto u = load_unit({tmp / "units/x.service", "", {}}, SearchPaths{{}, {}}, diags);
  EXPECT_FALSE(diags.has_errors()) << dump(diags);
  EXPECT_EQ(values(u, "LockPersonality"), (Strings{"yes"}));
}

// ---- -p overrides ----

TEST(Loader, OverridesApplyLastWithCommandLineOrigin) {
  Tree t;
  t.unit(t.a, "web.service", "[Service]\nExecStart=/bin/true\nIPAddressDeny=any\nUser=alice\n");
  t.unit(t.a, "web.service.d/user.conf", "[Service]\nUser=carol\n");
  auto l = load_and_build(t, "web", {"IPAddressDeny=", "User=bob"});
  EXPECT_FALSE(l.diags.has_errors()) << dump(l.diags);
  EXPECT_EQ(origins(l.unit, "User"), (Strings{t.a + "/web.service:4",
                                              t.a + "/web.service.d/user.conf:2",
                                              "<command line>:2"}));
  EXPECT_EQ(origins(l.unit, "IPAddressDeny").back(), "<command line>:1");
  EXPECT_EQ(l.unit.assignments.back().section, "Service");
  EXPECT_TRUE(l.built->policy.ip_deny.empty());
  EXPECT_EQ(l.built->policy.user.value_or(""), "bob");
}

TEST(Loader, OverrideValueMayContainEquals) {
  Tree t;
  t.unit(t.a, "web.service", kUnit);
  auto l = load(t, "web", {"Environment=A=1"});
  EXPECT_EQ(values(l.unit, "Environment"), (Strings{"A=1"}));
}

TEST(Loader, OverrideWithoutEqualsIsAnError) {
  Tree t;
  t.unit(t.a, "web.service", kUnit);
  auto l = load(t, "web", {"User=bob", "NoEquals"});
  auto errors = errors_of(l.diags);
  ASSERT_EQ(errors.size(), 1u) << dump(l.diags);
  EXPECT_EQ(errors[0].origin.str(), "<command line>:2");
  EXPECT_EQ(errors[0].str().rfind("<command line>:2: error: ", 0), 0u);
}

TEST(Loader, OverrideErrorsHaveCommandLineOrigin) {
  Tree t;
  t.unit(t.a, "web.service", kUnit);
  auto l = load_and_build(t, "web", {"IPAddressDeny=nonsense"});
  auto errors = errors_of(l.diags);
  ASSERT_EQ(errors.size(), 1u) << dump(l.diags);
  EXPECT_EQ(errors[0].origin.str(), "<command line>:1");
}

TEST(Loader, OverrideCanIncludeAPolicy) {
  Tree t;
  t.policy("p", "[Service]\nIPAddressDeny=any\n");
  t.unit(t.a, "web.service", kUnit);
  auto l = load_and_build(t, "web", {"Policy=p"});
  EXPECT_FALSE(l.diags.has_errors()) << dump(l.diags);
  EXPECT_EQ(l.unit.policies, (Strings{t.policies + "/p.policy"}));
  EXPECT_EQ(prefixes(l.built->policy.ip_deny), (Strings{"0.0.0.0/0", "::/0"}));
}

TEST(Loader, AdHocRunHasOnlyOverrides) {
  Tree t;
  Diagnostics diags;
  auto u = load_unit({"", "curl.service", {"IPAddressDeny=any"}}, t.paths, diags);
  EXPECT_FALSE(diags.has_errors()) << dump(diags);
  EXPECT_EQ(u.name.full, "curl.service");
  EXPECT_TRUE(u.fragment.empty());
  EXPECT_EQ(origins(u, "IPAddressDeny"), (Strings{"<command line>:1"}));
}

// ---- trust ----

TEST(Loader, TrustedTreeHasNoTrustErrors) {
  Tree t;
  t.unit(t.a, "web.service", kUnit);
  EXPECT_EQ(untrusted_reason(t.a + "/web.service"), "");
  EXPECT_EQ(untrusted_reason(t.tmp.path()), ""); // below sticky /tmp
}

TEST(Loader, GroupWritableUnitFileIsRefused) {
  Tree t;
  t.unit(t.a, "web.service", kUnit, 0664);
  auto l = load(t, "web");
  auto errors = errors_of(l.diags);
  ASSERT_EQ(errors.size(), 1u) << dump(l.diags);
  EXPECT_EQ(errors[0].origin.file, t.a + "/web.service");
  EXPECT_NE(errors[0].message.find("refusing to trust"), std::string::npos) << errors[0].str();
  EXPECT_NE(untrusted_reason(t.a + "/web.service"), "");
}

TEST(Loader, WorldWritableUnitFileIsRefused) {
  Tree t;
  t.unit(t.a, "web.service", kUnit, 0646);
  auto l = load(t, "web");
  EXPECT_TRUE(l.diags.has_errors());
}

TEST(Loader, GroupWritableDirectoryIsRefused) {
  Tree t;
  t.unit(t.a, "web.service", kUnit);
  ASSERT_EQ(chmod(t.a.c_str(), 0775), 0);
  auto l = load(t, "web");
  auto errors = errors_of(l.diags);
  ASSERT_EQ(errors.size(), 1u) << dump(l.diags);
  EXPECT_NE(errors[0].message.find("refusing to trust " + t.a), std::string::npos)
      << errors[0].str();
}

TEST(Loader, GroupWritableDropInIsRefused) {
  Tree t;
  t.unit(t.a, "web.service", kUnit);
  t.unit(t.a, "web.service.d/x.conf", "[Service]\nUser=nobody\n", 0660);
  auto l = load(t, "web");
  auto errors = errors_of(l.diags);
  ASSERT_EQ(errors.size(), 1u) << dump(l.diags);
  EXPECT_EQ(errors[0].origin.file, t.a + "/web.service.d/x.conf");
}

TEST(Loader, GroupWritablePolicyIsRefused) {
  Tree t;
  t.policy("p", "[Service]\nIPAddressDeny=any\n", 0664);
  t.unit(t.a, "web.service", "[Service]\nExecStart=/bin/true\nPolicy=p\n");
  auto l = load(t, "web");
  auto errors = errors_of(l.diags);
  ASSERT_EQ(errors.size(), 1u) << dump(l.diags);
  EXPECT_EQ(errors[0].origin.file, t.policies + "/p.policy");
  EXPECT_NE(errors[0].message.find("refusing to trust"), std::string::npos);
}

TEST(Loader, StickyWorldWritableDirectoryAboveIsTrusted) {
  Tree t;
  std::string sticky = t.tmp / "sticky";
  t.unit(sticky, "own/web.service", kUnit);
  ASSERT_EQ(chmod(sticky.c_str(), 01777), 0);
  EXPECT_EQ(untrusted_reason(sticky + "/own/web.service"), "");
}

// ---- environment ----

TEST(Loader, SearchPathsFromEnvironment) {
  ScopedEnv units("RINGFENCE_UNIT_PATH", "/x/units::/y/units");
  ScopedEnv policies("RINGFENCE_POLICY_PATH", "/p1:/p2");
  auto paths = SearchPaths::from_environment();
  EXPECT_EQ(paths.units, (Strings{"/x/units", "/y/units"}));
  EXPECT_EQ(paths.policies, (Strings{"/p1", "/p2"}));
}

TEST(Loader, DefaultSearchPathsFollowTheContract) {
  ScopedEnv units("RINGFENCE_UNIT_PATH", nullptr);
  ScopedEnv policies("RINGFENCE_POLICY_PATH", nullptr);
  auto paths = SearchPaths::from_environment();
  EXPECT_EQ(paths.units, (Strings{"/etc/ringfence/units", "/run/ringfence/units",
                                  "/usr/local/lib/ringfence/units", "/usr/lib/ringfence/units"}));
  ASSERT_GE(paths.policies.size(), 3u);
  EXPECT_EQ(paths.policies[0], "/etc/ringfence/policies");
  EXPECT_EQ(paths.policies[1], "/usr/local/share/ringfence/policies");
  EXPECT_EQ(paths.policies[2], "/usr/share/ringfence/policies");
  // ...and a policies/ directory beside each unit directory.
  EXPECT_NE(std::find(paths.policies.begin(), paths.policies.end(), "/usr/lib/ringfence/policies"),
            paths.policies.end());
}
