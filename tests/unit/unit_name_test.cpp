// Unit names and systemd's % specifiers.
#include "unit/unit_name.hpp"

#include <gtest/gtest.h>

#include <string>

using rf::unit::expand_specifiers;
using rf::unit::parse_unit_name;
using rf::unit::unescape_instance;
using rf::unit::UnitName;

namespace {

UnitName name(std::string_view text) {
  auto r = parse_unit_name(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message());
  return r.ok() ? *r : UnitName{};
}

std::string expand(std::string_view text, std::string_view unit) {
  auto r = expand_specifiers(text, name(unit));
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message());
  return r.ok() ? *r : std::string("<error>");
}

} // namespace

TEST(UnitName, BareNameGetsServiceSuffix) {
  auto n = name("web");
  EXPECT_EQ(n.full, "web.service");
  EXPECT_EQ(n.prefix, "web");
  EXPECT_EQ(n.instance, "");
  EXPECT_FALSE(n.is_instance());
  EXPECT_EQ(n.template_name(), "web.service");
}

TEST(UnitName, ServiceSuffixIsKept) {
  EXPECT_EQ(name("web.service").full, "web.service");
  EXPECT_EQ(name("my-app_2.x:y").full, "my-app_2.x:y.service");
}

TEST(UnitName, InstanceAndTemplate) {
  auto n = name("foo@bar.service");
  EXPECT_EQ(n.full, "foo@bar.service");
  EXPECT_EQ(n.prefix, "foo");
  EXPECT_EQ(n.instance, "bar");
  EXPECT_TRUE(n.is_instance());
  EXPECT_EQ(n.template_name(), "foo@.service");
  EXPECT_EQ(name("getty@tty1").full, "getty@tty1.service");
}

TEST(UnitName, TemplateItselfHasNoInstance) {
  auto n = name("foo@.service");
  EXPECT_FALSE(n.is_instance());
  EXPECT_EQ(n.prefix, "foo");
}

TEST(UnitName, OtherUnitTypesAreRefused) {
  for (const char *bad : {"x.socket", "x.timer", "multi-user.target", "x.mount", "x.path",
                          "x.slice", "x.scope"}) {
    auto r = parse_unit_name(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message().find("not a service unit"), std::string::npos)
        << r.error().message();
  }
}

TEST(UnitName, InvalidNamesAreRefused) {
  for (const char *bad : {"", ".service", "a b", "a/b", "@x.service", "wé"})
    EXPECT_FALSE(parse_unit_name(bad).ok()) << bad;
  EXPECT_FALSE(parse_unit_name(std::string(300, 'a')).ok());
}

TEST(UnitName, UnescapeInstance) {
  EXPECT_EQ(unescape_instance("dev-sda1"), "dev/sda1");
  EXPECT_EQ(unescape_instance("a\\x2db"), "a-b");
  EXPECT_EQ(unescape_instance("plain"), "plain");
}

TEST(Specifiers, NameSpecifiers) {
  EXPECT_EQ(expand("%n", "foo@bar.service"), "foo@bar.service");
  EXPECT_EQ(expand("%N", "foo@bar.service"), "foo@bar");
  EXPECT_EQ(expand("%p", "foo@bar.service"), "foo");
  EXPECT_EQ(expand("%i", "foo@bar.service"), "bar");
  EXPECT_EQ(expand("%n|%N|%p|%i", "web.service"), "web.service|web|web|");
}

TEST(Specifiers, UnescapedInstance) {
  EXPECT_EQ(expand("%i", "mount@var-lib\\x2dx.service"), "var-lib\\x2dx");
  EXPECT_EQ(expand("%I", "mount@var-lib\\x2dx.service"), "var/lib-x");
}

TEST(Specifiers, SystemDirectoriesAndUser) {
  EXPECT_EQ(expand("%t/%p.sock", "web.service"), "/run/web.sock");
  EXPECT_EQ(expand("%S/%p", "web.service"), "/var/lib/web");
  EXPECT_EQ(expand("%C %L %E", "web.service"), "/var/cache /var/log /etc");
  EXPECT_EQ(expand("%h", "web.service"), "/root");
  EXPECT_EQ(expand("%u", "web.service"), "root");
  EXPECT_EQ(expand("%U", "web.service"), "0");
}

TEST(Specifiers, PercentPercentIsALiteralPercent) {
  EXPECT_EQ(expand("100%%", "web.service"), "100%");
  EXPECT_EQ(expand("%%n", "web.service"), "%n");
}

TEST(Specifiers, TextWithoutSpecifiersIsUnchanged) {
  EXPECT_EQ(expand("/usr/bin/web --port 80", "web.service"), "/usr/bin/web --port 80");
}

TEST(Specifiers, UnknownSpecifierIsAnError) {
  auto r = expand_specifiers("%x", name("web"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("'%x'"), std::string::npos) << r.error().message();
  EXPECT_FALSE(expand_specifiers("a %Z b", name("web")).ok());
  EXPECT_FALSE(expand_specifiers("%H", name("web")).ok()); // not supported: never literal
}

TEST(Specifiers, TrailingPercentIsAnError) {
  auto r = expand_specifiers("50%", name("web"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("%%"), std::string::npos) << r.error().message();
}
