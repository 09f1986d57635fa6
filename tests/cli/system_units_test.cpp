// `verify` over every service unit the machine ships in /lib/systemd/system: no crash, and
// every rejection says where. Prints the tally for the record.
#include "test_support.hpp"
#include "unit/directives.hpp"

#include <filesystem>
#include <map>

namespace rf {
namespace {

TEST(SystemUnits, EveryShippedServiceParsesAndEveryRejectionNamesFileAndLine) {
  namespace fs = std::filesystem;
  const fs::path dir = "/lib/systemd/system";
  // The test command installs the `systemd` package, so these files exist on every machine.
  ASSERT_TRUE(fs::is_directory(dir)) << dir << " missing: install the systemd package";
  unit::SearchPaths paths{{dir.string()}, {}};
  int accepted = 0, rejected = 0;
  std::map<std::string, int> reasons;
  for (const auto &entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".service" || !entry.is_regular_file() ||
        fs::is_symlink(entry.path()))
      continue;
    Diagnostics diags;
    auto unit = unit::load_unit({entry.path().string(), "", {}}, paths, diags);
    unit::build_policy(unit, {}, diags);
    for (const auto &d : diags.items()) {
      EXPECT_FALSE(d.message.empty());
      EXPECT_EQ(d.origin.file.rfind(dir.string(), 0), 0u)
          << "diagnostic does not name the unit's file: " << d.str();
      if (d.severity == Diagnostic::Severity::error) {
        // File-level problems (no ExecStart=) have no line; all others must have one.
        if (d.message.find("ExecStart") == std::string::npos) {
          EXPECT_GT(d.origin.line, 0) << d.str();
        }
        auto key = d.message.substr(0, d.message.find_first_of("='"));
        ++reasons[key];
      }
    }
    diags.has_errors() ? ++rejected : ++accepted;
  }
  EXPECT_GT(accepted + rejected, 20);
  std::printf("/lib/systemd/system: %d accepted, %d rejected\n", accepted, rejected);
  for (const auto &[reason, count] : reasons)
    std::printf("  %4d  %s\n", count, reason.c_str());
}

} // namespace
} // namespace rf
