#include "unit/loader.hpp"

#include "util/files.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace rf::unit {
namespace {

std::vector<std::string> split_path_list(const char *value) { return split_list(value, ':'); }

bool is_regular_file(const std::string &path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

// "cannot read: why", as the unit's diagnostics say it.
Result<std::string> read_text(const std::string &path) {
  Result<std::string> text = read_file_at(AT_FDCWD, path.c_str());
  if (!text)
    return Error::from_errno("cannot read", text.error().err);
  return text;
}

class Loader {
public:
  Loader(const SearchPaths &paths, const UnitName &unit, Diagnostics &diags)
      : paths_(paths), unit_(unit), diags_(diags) {}

  // The unit file itself is the bottom of the include stack: a fragment cannot include it.
  void push_root(const std::string &path) { stack_.push_back(fs::weakly_canonical(path).string()); }

  // Reads one file and appends its assignments, expanding Policy= in place.
  void append_file(const std::string &path, bool is_policy, LoadedUnit &out) {
    if (auto why = untrusted_reason(path); !why.empty())
      diags_.error({path, 0}, why);
    Result<std::string> text = read_text(path);
    if (!text) {
      diags_.error({path, 0}, text.error().message());
      return;
    }
    for (auto &a : parse_ini(*text, path, diags_))
      append_assignment(std::move(a), is_policy, out);
  }

  void append_assignment(RawAssignment a, bool in_policy_file, LoadedUnit &out) {
    if (in_policy_file && a.section != "Service") {
      diags_.error(a.origin, "policy fragments may only have a [Service] section, not [" +
                                 a.section + "]");
      return;
    }
    if (a.section == "Service" && a.key == "Policy") {
      include_policies(a, out);
      return;
    }
    out.assignments.push_back(std::move(a));
  }

private:
  void include_policies(const RawAssignment &a, LoadedUnit &out) {
    auto names = whitespace_words(a.value);
    if (names.empty())
      diags_.error(a.origin, "Policy= needs at least one fragment name");
    for (const auto &word : names) {
      auto expanded = expand_specifiers(word, unit_);
      if (!expanded) {
        diags_.error(a.origin, expanded.error().message());
        continue;
      }
      const std::string &name = *expanded;
      if (name.find('/') != std::string::npos || name.find_first_of("\\ ") != std::string::npos) {
        diags_.error(a.origin, "invalid policy name '" + name + "'");
        continue;
      }
      std::string path = find_policy(name);
      if (path.empty()) {
        diags_.error(a.origin, "policy '" + name + "' not found (looked for " + name +
                                   ".policy in " + join(paths_.policies) + ")");
        continue;
      }
      std::string canonical = fs::weakly_canonical(path).string();
      if (std::find(stack_.begin(), stack_.end(), canonical) != stack_.end()) {
        diags_.error(a.origin, "Policy=" + name + " includes itself (cycle through " +
                                   canonical + ")");
        continue;
      }
      stack_.push_back(canonical);
      out.policies.push_back(path);
      append_file(path, true, out);
      stack_.pop_back();
    }
  }

  std::string find_policy(const std::string &name) const {
    for (const auto &dir : paths_.policies)
      if (auto p = dir + "/" + name + ".policy"; is_regular_file(p))
        return p;
    return {};
  }


  static std::string join(const std::vector<std::string> &dirs) {
    std::string s;
    for (const auto &d : dirs)
      s += (s.empty() ? "" : ":") + d;
    return s;
  }

  const SearchPaths &paths_;
  const UnitName &unit_;
  Diagnostics &diags_;
  std::vector<std::string> stack_; // files being included, for cycle detection
};

std::string find_unit(const UnitName &name, const std::vector<std::string> &dirs) {
  for (const auto &candidate : {name.full, name.template_name()})
    for (const auto &dir : dirs)
      if (auto p = dir + "/" + candidate; is_regular_file(p))
        return p;
  return {};
}

// systemd's rule: every NAME.d/*.conf across the directories; for one file name the
// highest-priority directory wins; applied in lexicographic order of file name.
std::vector<std::string> find_dropins(const UnitName &name, const std::vector<std::string> &dirs) {
  // Lowest priority first, so later entries replace earlier ones of the same file name:
  // the template's drop-ins, then the instance's; within each, the last directory first.
  std::vector<std::string> dropin_dirs;
  std::vector<std::string> unit_names = {name.template_name()};
  if (name.template_name() != name.full)
    unit_names.push_back(name.full);
  for (const auto &unit_name : unit_names)
    for (auto dir = dirs.rbegin(); dir != dirs.rend(); ++dir)
      dropin_dirs.push_back(*dir + "/" + unit_name + ".d");
  std::map<std::string, std::string> by_name;
  for (const auto &dir : dropin_dirs) {
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(dir, ec))
      if (entry.path().extension() == ".conf" && entry.is_regular_file(ec))
        by_name[entry.path().filename().string()] = entry.path().string();
  }
  std::vector<std::string> files;
  for (auto &[file_name, path] : by_name)
    files.push_back(path);
  return files;
}

} // namespace

SearchPaths SearchPaths::from_environment() {
  SearchPaths paths;
  if (const char *v = std::getenv("RINGFENCE_UNIT_PATH"))
    paths.units = split_path_list(v);
  else
    paths.units = {"/etc/ringfence/units", "/run/ringfence/units",
                   "/usr/local/lib/ringfence/units", "/usr/lib/ringfence/units"};
  if (const char *v = std::getenv("RINGFENCE_POLICY_PATH")) {
    paths.policies = split_path_list(v);
  } else {
    paths.policies = {"/etc/ringfence/policies", "/usr/local/share/ringfence/policies",
                      "/usr/share/ringfence/policies"};
    for (const auto &dir : paths.units) {
      std::string beside = fs::path(dir).parent_path().string() + "/policies";
      if (std::find(paths.policies.begin(), paths.policies.end(), beside) == paths.policies.end())
        paths.policies.push_back(beside);
    }
  }
  return paths;
}

std::string untrusted_reason(const std::string &path) {
  std::error_code ec;
  fs::path p = fs::canonical(path, ec);
  if (ec)
    return {};
  uid_t me = geteuid();
  for (fs::path cur = p;; cur = cur.parent_path()) {
    struct stat st{};
    if (stat(cur.c_str(), &st) != 0)
      return {};
    bool sticky_dir = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) && cur != p;
    if (st.st_uid != 0 && st.st_uid != me)
      return "refusing to trust " + cur.string() + ": owned by uid " +
             std::to_string(st.st_uid) + ", not root";
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !sticky_dir)
      return "refusing to trust " + cur.string() +
             ": writable by users other than its owner (fix with chmod go-w)";
    if (cur == cur.root_path())
      return {};
  }
}

LoadedUnit load_unit(const LoadRequest &request, const SearchPaths &input_paths,
                     Diagnostics &diags) {
  LoadedUnit out;
  SearchPaths paths = input_paths;
  bool by_path = request.unit.find('/') != std::string::npos;
  std::string name_text =
      request.unit.empty() ? request.adhoc_name
                           : (by_path ? fs::path(request.unit).filename().string() : request.unit);
  std::string where = request.unit.empty() ? std::string("<command line>") : request.unit;
  auto name = parse_unit_name(name_text);
  if (!name) {
    diags.error({where, 0}, name.error().message());
    return out;
  }
  out.name = *name;

  std::vector<std::string> dropin_dirs = paths.units;
  if (by_path) {
    // A unit given by path also takes drop-ins beside it and fragments from ../policies.
    fs::path dir = fs::absolute(request.unit).lexically_normal().parent_path();
    dropin_dirs.insert(dropin_dirs.begin(), dir.string());
    if (!std::getenv("RINGFENCE_POLICY_PATH")) // a checkout's own fragments come first
      paths.policies.insert(paths.policies.begin(), dir.parent_path().string() + "/policies");
    out.fragment = request.unit;
    if (!is_regular_file(out.fragment)) {
      diags.error({request.unit, 0}, "no such unit file");
      out.missing = true;
      return out;
    }
  } else if (!request.unit.empty()) {
    out.fragment = find_unit(out.name, paths.units);
    if (out.fragment.empty()) {
      std::string searched;
      for (const auto &d : paths.units)
        searched += (searched.empty() ? "" : ":") + d;
      diags.error({out.name.full, 0}, "unit not found (search path: " + searched + ")");
      out.missing = true;
      return out;
    }
  }

  Loader loader(paths, out.name, diags);
  if (!out.fragment.empty()) {
    loader.push_root(out.fragment);
    loader.append_file(out.fragment, false, out);
    out.dropins = find_dropins(out.name, dropin_dirs);
    for (const auto &dropin : out.dropins)
      loader.append_file(dropin, false, out);
  }
  int index = 0;
  for (const auto &override_text : request.overrides) {
    Origin origin{"<command line>", ++index};
    auto eq = override_text.find('=');
    if (eq == std::string::npos || eq == 0) {
      diags.error(origin, "-p needs KEY=VALUE, got '" + override_text + "'");
      continue;
    }
    loader.append_assignment({"Service", override_text.substr(0, eq),
                              override_text.substr(eq + 1), origin},
                             false, out);
  }
  return out;
}

} // namespace rf::unit
