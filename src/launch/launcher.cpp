#include "launch/launcher.hpp"

#include "audit/audit_log.hpp"
#include "audit/refusal_report.hpp"
#include "audit/trace_set.hpp"
#include "cgroup/cgroup.hpp"
#include "cgroup/invocations.hpp"
#include "cgroup/limits.hpp"
#include "launch/credentials.hpp"
#include "launch/environment.hpp"
#include "launch/supervisor.hpp"
#include "netfilter/inherited_sockets.hpp"
#include "netfilter/ip_filter.hpp"
#include "sandbox_abi.h"
#include "seccomp/cache.hpp"
#include "seccomp/filter.hpp"
#include "seccomp/notifications.hpp"
#include "unit/exec_line.hpp"
#include "unit/loader.hpp"

#include <cerrno>
#include <charconv>
#include <pwd.h>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <linux/capability.h>
#include <map>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

namespace rf::launch {
namespace {

constexpr int kCapSysAdmin = 21;
// How often a supervisor writes the refusals counted in the kernel to the audit log.
constexpr std::chrono::milliseconds kDenialReportInterval{250};
constexpr int kCapBpf = 39;

Status check_privileges() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) < 0)
    return Error::from_errno("Failed to read own capabilities");
  std::uint64_t effective = data[0].effective | std::uint64_t{data[1].effective} << 32;
  if (!(effective >> kCapSysAdmin & 1) || !(effective >> kCapBpf & 1))
    return Error::msg("needs root (CAP_SYS_ADMIN and CAP_BPF) to create cgroups and load BPF "
                      "programs");
  return Ok{};
}

// Never run a service with less protection than its unit asks for.
Status refuse_unenforced(const Policy &policy) {
  if (!policy.unenforced.empty()) {
    const auto &[key, origin] = policy.unenforced.front();
    return Error::msg(origin.str() + ": " + key + "= is not enforced by ringfence; refusing to start");
  }
  return Ok{};
}

Result<std::string> new_invocation_id() {
  unsigned char bytes[16];
  if (::getrandom(bytes, sizeof bytes, 0) != sizeof bytes)
    return Error::from_errno("Failed to get random bytes for the invocation id");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 15]);
  }
  return id;
}


std::string basename_of(const std::string &path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// What the kernel will call the process after exec (TASK_COMM_LEN - 1 characters).
std::string comm_of(const std::string &path) { return basename_of(path).substr(0, 15); }

std::map<std::string, std::string> as_map(const std::vector<std::string> &env) {
  std::map<std::string, std::string> map;
  for (const std::string &entry : env) {
    std::size_t eq = entry.find('=');
    map[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return map;
}

std::vector<std::string> exec_candidates(const std::string &command,
                                         const std::map<std::string, std::string> &env) {
  if (command.find('/') != std::string::npos)
    return {command};
  std::vector<std::string> candidates;
  auto path = env.find("PATH");
  std::string search = path == env.end() ? kDefaultPath : path->second;
  for (std::size_t at = 0; at <= search.size();) {
    std::size_t end = search.find(':', at);
    if (end == std::string::npos)
      end = search.size();
    std::string dir = search.substr(at, end - at);
    if (dir.starts_with('/'))
      candidates.push_back(dir + "/" + command);
    at = end + 1;
  }
  return candidates;
}

std::vector<std::string> caller_environment() {
  std::vector<std::string> env;
  for (char **entry = environ; *entry; ++entry)
    env.emplace_back(*entry);
  return env;
}

std::string home_of_root() {
  const passwd *root = ::getpwuid(0);
  return root && root->pw_dir ? root->pw_dir : "/root";
}

// Socket activation passes fds 3..3+N-1. They must be open now, before ringfence opens
// fds of its own: a larger N would hand those (the cgroup, the audit log) to the service.
Result<int> check_listen_fds(const std::string &text) {
  constexpr int kMaxListenFds = 4096;
  int count = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
  if (ec != std::errc() || end != text.data() + text.size() || count < 1 || count > kMaxListenFds)
    return Error::msg("LISTEN_FDS=" + text + " is not a number of passed sockets (1.." +
                      std::to_string(kMaxListenFds) + ")");
  for (int fd = 3; fd < 3 + count; ++fd)
    if (::fcntl(fd, F_GETFD) < 0)
      return Error::msg("LISTEN_FDS=" + text + ", but fd " + std::to_string(fd) + " is not open");
  return count;
}

bool exists(const std::string &path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

timespec realtime_now() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return now;
}

} // namespace

std::uint64_t service_bounding_set(const Policy &policy, int last_cap) {
  std::uint64_t all = last_cap >= 63 ? ~0ull : (1ull << (last_cap + 1)) - 1;
  if (policy.capability_bounding_set)
    return *policy.capability_bounding_set & all;
  if (policy.has_confinement())
    return all & ~kSandboxEscapeCapabilities;
  return all;
}

namespace {

// The private mounts (read-only cgroupfs showing only the service's own cgroup, read-only
// ringfence files) stop a service that may write there but cannot undo mounts: root (or
// ambient capabilities) without CAP_SYS_ADMIN. A root service that keeps CAP_SYS_ADMIN
// could unmount them, and a plain user cannot write there anyway; for both they would only
// cost time.
bool needs_private_mounts(const ExecPlan &plan) {
  bool privileged = !plan.change_user || plan.credentials.uid == 0 || plan.ambient != 0;
  bool can_undo_mounts = plan.bounding_set >> kCapSysAdmin & 1;
  return privileged && !can_undo_mounts;
}

// Signals the caller left ignored stay ignored across execve; the service gets defaults.
sigset_t ignored_signals() {
  sigset_t ignored;
  sigemptyset(&ignored);
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction action {};
    if (::sigaction(sig, nullptr, &action) == 0 && action.sa_handler == SIG_IGN)
      sigaddset(&ignored, sig);
  }
  return ignored;
}

} // namespace

// One run: the objects it owns are members, so every exit path tears down the same way
// (the cgroup guard kills and removes what is left).
class Invocation {
public:
  Invocation(const Policy &policy, const LaunchOptions &options)
      : policy_(policy), options_(options) {}
  RunOutcome run();

private:
  Status prepare();
  Status prepare_plans();
  Status prepare_cgroup();
  Status prepare_mounts();
  Status prepare_ip_filter();
  Status prepare_audit_trace();
  Status enroll_in_trace(const std::vector<audit::SyscallRule> &rules);
  void drain_trace();
  void answer_notifications(UniqueFd listener, Supervisor &supervisor);
  void answer(seccomp::Notifications &notifications);
  Result<audit::RunEvents *> run_events();
  RunOutcome supervise();
  Result<int> run_command(std::size_t index, Supervisor &supervisor, RunOutcome &failure);
  void stop_at(const char *stage) const;
  void record_exit(const RunOutcome &outcome);
  void read_ip_accounting();
  void report_denials(bool final = false);

  const Policy &policy_;
  const LaunchOptions &options_;
  std::string invocation_id_;
  std::vector<ExecPlan> plans_;
  std::string cgroup2_mount_;
  std::vector<cgroup::MountEntry> mounts_; // /proc/self/mountinfo, read once
  std::optional<cgroup::CgroupDir> cgroup_;
  std::string parent_path_;
  UniqueFd parent_fd_; // the parent directory: its lock, and the programs all runs share
  bool reaped_stale_ = false;
  std::optional<netfilter::RunFilter> ip_filter_;
  std::optional<netfilter::InheritedSocketGuard> inherited_sockets_;
  std::optional<netfilter::IpCounters> ip_totals_;
  std::optional<audit::RunEvents> events_; // before the owners of the maps it joined
  std::optional<audit::RunTrace> trace_;
  std::vector<seccomp::NotifiedCall> notified_calls_;
  std::vector<int> killed_calls_; // the filter kills them whatever their arguments
  std::vector<std::unique_ptr<seccomp::Notifications>> listeners_; // one per command run
  std::map<int, audit::SyscallTotal> answered_;                      // by syscall number
  std::uint64_t ip_refusals_read_ = 0; // the IP filter's refusal count at the last read
  bool kills_traced_ = false;          // kill events since the last read of the kill counts
  std::string audit_trail_off_; // AuditTrail=best-effort without tracing: why
  audit::RefusalReport refusals_;
  std::optional<audit::AuditLog> audit_log_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  pid_t main_pid_ = 0;
  std::string stage_ = "setup";
};

void Invocation::stop_at(const char *stage) const {
  if (options_.stop_at == stage)
    ::raise(SIGSTOP);
}

Status Invocation::prepare_plans() {
  Result<std::optional<Account>> account = resolve_account(policy_);
  if (!account)
    return account.error();
  Result<Credentials> credentials = resolve_credentials(policy_, *account);
  if (!credentials)
    return credentials.error();
  EnvVars file_vars;
  for (const EnvironmentFile &file : policy_.environment_files) {
    Result<EnvVars> vars = read_environment_file(file);
    if (!vars)
      return vars.error();
    file_vars.insert(file_vars.end(), vars->begin(), vars->end());
  }
  Passthrough passthrough = Passthrough::from(caller_environment(), ::getpid(), ::isatty(0) == 1);
  std::vector<std::string> env = build_environment(
      policy_, invocation_id_, *account ? &**account : nullptr, passthrough, file_vars);
  std::map<std::string, std::string> env_map = as_map(env);

  ExecPlan base;
  base.envp = env;
  for (std::size_t i = 0; i < env.size(); ++i)
    if (env[i] == "LISTEN_PID=")
      base.listen_pid_index = static_cast<int>(i);
  if (passthrough.listen_fds) {
    Result<int> count = check_listen_fds(*passthrough.listen_fds);
    if (!count)
      return count.error();
    base.listen_fds = *count;
  }
  base.credentials = *credentials;
  base.change_user = account->has_value();
  base.last_cap = last_capability();
  base.bounding_set = service_bounding_set(policy_, base.last_cap);
  base.ambient = policy_.ambient_capabilities;
  if (policy_.working_directory) // "~": the home of User=, or root's without it
    base.working_directory = *policy_.working_directory != "~" ? *policy_.working_directory
                             : *account                        ? (*account)->home
                                                               : home_of_root();
  base.working_directory_optional = policy_.working_directory_optional;
  base.umask = policy_.umask.value_or(022);
  base.restrict_realtime = policy_.restrict_realtime;
  if (policy_.has_seccomp()) {
    // The calls refused with an errno, or logged, whatever their arguments come to the
    // supervisor, which answers and records them (seccomp/notifications.hpp).
    seccomp::FilterOptions options{true};
    Result<seccomp::CompiledFilter> filter =
        seccomp::compile_cached(policy_, seccomp::kDefaultCacheDirectory, options);
    if (!filter)
      return filter.error().wrap("seccomp");
    base.seccomp = std::move(filter->program);
    notified_calls_ = std::move(filter->notified);
    killed_calls_ = std::move(filter->killed);
    base.seccomp_listener = !notified_calls_.empty(); // else no call is handed over
    if (base.seccomp_listener && policy_.audit_trail == AuditTrail::best_effort) {
      Result<seccomp::CompiledFilter> plain =
          seccomp::compile_cached(policy_, seccomp::kDefaultCacheDirectory);
      if (!plain)
        return plain.error().wrap("seccomp");
      base.seccomp_without_listener = std::move(plain->program);
    }
  }
  base.supervisor = ::getpid();
  base.ignored_signals = ignored_signals();
  base.private_mounts = needs_private_mounts(base);

  for (const ExecCommand &command : policy_.exec_start) {
    ExecPlan plan = base;
    plan.argv = command.expand_environment ? unit::expand_argv(command.argv, env_map) : command.argv;
    if (plan.argv.empty())
      return Error::msg("ExecStart= expands to an empty command line");
    plan.command = plan.argv[0];
    plan.exec_candidates = exec_candidates(plan.command, env_map);
    if (command.argv0)
      plan.argv[0] = *command.argv0;
    plans_.push_back(std::move(plan));
  }
  return Ok{};
}

Status Invocation::prepare_cgroup() {
  Result<std::string> mountinfo = cgroup::read_mountinfo();
  if (!mountinfo)
    return mountinfo.error();
  mounts_ = cgroup::parse_mountinfo(*mountinfo);
  Result<std::string> mount = cgroup::find_cgroup2_mount(mounts_);
  if (!mount)
    return mount.error();
  cgroup2_mount_ = *mount;
  Result<cgroup::Parent> parent = cgroup::resolve_parent(cgroup2_mount_, options_.cgroup_parent);
  if (!parent)
    return parent.error();
  parent_path_ = parent->path;
  parent_fd_.reset(::open(parent_path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent_fd_)
    return Error::from_errno("Failed to open cgroup '" + parent_path_ + "'");
  // Every run reaps what runs whose supervisor was killed left behind.
  Result<std::vector<std::string>> reaped = cgroup::reap_stale_invocations(parent->path);
  if (!reaped && options_.verbose)
    std::fprintf(stderr, "ringfence: %s: %s\n", policy_.unit_name.c_str(),
                 reaped.error().message().c_str());
  reaped_stale_ = reaped && !reaped->empty();

  std::string name = cgroup::invocation_cgroup_name(policy_.unit_name, invocation_id_);
  Result<cgroup::CgroupDir> dir = cgroup::CgroupDir::create(parent->path + "/" + name);
  if (!dir)
    return dir.error();
  cgroup_.emplace(std::move(*dir));
  Result<cgroup::SupervisorMark> self = cgroup::SupervisorMark::of_process(::getpid());
  if (!self)
    return self.error();
  RF_TRY(cgroup::mark_invocation(*cgroup_, invocation_id_, *self));

  if (!policy_.limits.any())
    return Ok{};
  Result<std::vector<cgroup::CgroupSetting>> settings =
      cgroup::cgroup_settings(policy_.limits, cgroup::MachineTotals::current());
  if (!settings)
    return settings.error();
  if (!settings->empty())
    RF_TRY(cgroup::leave_parent(*parent));
  return cgroup::apply_settings(cgroup2_mount_, parent->path, cgroup_->fd(), *settings);
}

Status Invocation::prepare_mounts() {
  if (!plans_.empty() && !plans_.front().private_mounts)
    return Ok{};
  MountPlan mounts;
  mounts.own_cgroup = cgroup_->path();
  for (const cgroup::MountEntry &entry : mounts_)
    if (entry.fstype == "cgroup2")
      mounts.cgroup2_mounts.push_back(entry.mount_point);
  mounts.read_only_mounts = cgroup::control_mounts(mounts_);
  std::vector<std::string> paths = options_.protected_paths;
  paths.push_back("/etc/ringfence");
  // Every directory a later run reads units, drop-ins or fragments from.
  unit::SearchPaths search = unit::SearchPaths::from_environment();
  paths.insert(paths.end(), search.units.begin(), search.units.end());
  paths.insert(paths.end(), search.policies.begin(), search.policies.end());
  if (audit_log_)
    paths.push_back(audit_log_->path());
  for (const std::string &path : paths)
    if (exists(path))
      mounts.read_only_paths.push_back(path);
  for (ExecPlan &plan : plans_)
    plan.mounts = mounts;
  return Ok{};
}

// The IP filter programs sit on the parent and serve every run below it; this run adds its
// entry under the parent's lock. A run without IP directives only needs an entry when a set
// is attached already (without one its service would be refused all traffic).
Status Invocation::prepare_ip_filter() {
  bool wanted = policy_.has_ip_filter() || policy_.ip_accounting;
  Result<cgroup::ParentLock> lock = cgroup::ParentLock::acquire(parent_fd_.get());
  if (!lock)
    return lock.error();
  Result<std::set<std::uint64_t>> runs = cgroup::invocation_ids(parent_path_);
  if (!runs)
    return runs.error();
  Result<std::optional<netfilter::ParentFilter>> existing =
      netfilter::ParentFilter::find(parent_fd_.get());
  if (!existing)
    return existing.error().wrap("IP filter");
  if (!wanted && !*existing)
    return Ok{};
  bool fresh = !*existing;
  std::optional<netfilter::ParentFilter> filter = std::move(*existing);
  if (wanted && fresh) {
    Result<std::uint64_t> parent_id = cgroup::cgroup_id(parent_path_);
    if (!parent_id)
      return parent_id.error();
    Result<netfilter::ParentFilter> attached = netfilter::ParentFilter::attach(
        parent_fd_.get(), *parent_id, cgroup::cgroup_level(cgroup2_mount_, parent_path_) + 1,
        runs->size() > 1);
    if (!attached)
      return attached.error().wrap("IP filter");
    filter.emplace(std::move(*attached));
  }
  if (fresh) // runs that started before the set existed pass everything, as they did
    for (std::uint64_t run : *runs)
      if (run != cgroup_->id())
        RF_TRY(filter->admit(run));
  // A supervisor that moved to a leaf of a delegated parent sits at the runs' level.
  if (Result<std::uint64_t> leaf = cgroup::cgroup_id(parent_path_ + "/supervisor"); leaf)
    RF_TRY(filter->admit(*leaf));
  if (reaped_stale_) // entries of runs whose supervisor was killed
    RF_TRY(filter->sweep(*runs));
  Result<netfilter::RunFilter> installed = filter->install(cgroup_->id(), policy_);
  if (!installed)
    return installed.error().wrap("IP filter");
  ip_filter_.emplace(std::move(*installed));
  if (policy_.has_ip_filter()) {
    std::vector<netfilter::InheritedSocket> sockets =
        netfilter::inherited_ip_sockets(plans_.front().listen_fds);
    if (!sockets.empty()) {
      Result<netfilter::InheritedSocketGuard> covered = netfilter::cover_inherited_sockets(
          *filter, cgroup_->id(), netfilter::policy_flags(policy_), sockets,
          policy_.allow_unfiltered_inherited_sockets);
      if (!covered)
        return covered.error().wrap("IP filter");
      inherited_sockets_.emplace(std::move(*covered));
    }
  }
  return Ok{};
}

// The tracing program that counts what the seccomp filter kills, and says who.
// AuditTrail=required (the default) makes programs that cannot attach a reason not to start;
// best-effort starts without them, and says so.
Status Invocation::prepare_audit_trace() {
  std::vector<audit::SyscallRule> rules;
  for (int nr : killed_calls_)
    if (nr < SANDBOX_MAX_SYSCALL)
      rules.push_back({nr, audit::SyscallAction::kill, 0});
  if (rules.empty()) // the IP filter's refusals are counted and named by its own programs
    return Ok{};
  Status enrolled = enroll_in_trace(rules);
  if (enrolled)
    return Ok{};
  if (policy_.audit_trail == AuditTrail::required)
    return enrolled.error().wrap("audit trail (AuditTrail=best-effort starts without it)");
  audit_trail_off_ = enrolled.error().message();
  std::fprintf(stderr, "ringfence: %s: starting without the audit trail's tracing: %s\n",
               policy_.unit_name.c_str(), audit_trail_off_.c_str());
  return Ok{};
}

Result<audit::RunEvents *> Invocation::run_events() {
  if (!events_) {
    Result<audit::RunEvents> created = audit::RunEvents::create(cgroup_->id());
    if (!created)
      return created.error();
    events_.emplace(std::move(*created));
  }
  return &*events_;
}

Status Invocation::enroll_in_trace(const std::vector<audit::SyscallRule> &rules) {
  Result<cgroup::ParentLock> lock = cgroup::ParentLock::acquire(parent_fd_.get());
  if (!lock)
    return lock.error();
  Result<audit::TraceSet> set = audit::TraceSet::share_or_attach(parent_path_, parent_fd_.get());
  if (!set)
    return set.error();
  if (reaped_stale_) // the entries of runs whose supervisor was killed
    if (Result<std::set<std::uint64_t>> live = cgroup::invocation_ids(parent_path_); live)
      set->sweep(*live);
  RF_TRY(set->advertise(cgroup_->fd()));
  Result<audit::RunEvents *> events = run_events();
  if (!events)
    return events.error();
  Result<audit::RunTrace> run = audit::RunTrace::enroll(std::move(*set), parent_path_, parent_fd_.get(),
                                                        cgroup_->id(), rules, **events);
  if (!run)
    return run.error();
  trace_.emplace(std::move(*run));
  return Ok{};
}

Status Invocation::prepare() {
  RF_TRY(check_privileges());
  RF_TRY(refuse_unenforced(policy_));
  Result<std::string> id = new_invocation_id();
  if (!id)
    return id.error();
  invocation_id_ = *id;
  RF_TRY(prepare_plans());
  RF_TRY(prepare_cgroup());
  stop_at("cgroup");
  // Enforcers attach here, before the service process exists.
  RF_TRY(prepare_ip_filter());
  RF_TRY(prepare_audit_trace());
  stop_at("attached");
  Result<audit::AuditLog> log = audit::AuditLog::open(options_.audit_log);
  if (!log)
    return log.error();
  audit_log_.emplace(std::move(*log));
  return prepare_mounts();
}

// Runs one ExecStart= command to its end. A setup failure fills `failure` and returns it as
// an error-free status (the run is over either way).
Result<int> Invocation::run_command(std::size_t index, Supervisor &supervisor,
                                    RunOutcome &failure) {
  const ExecPlan &plan = plans_[index];
  Result<Spawned> spawned = spawn_into_cgroup(cgroup_->fd(), plan);
  if (!spawned)
    return spawned.error();
  main_pid_ = spawned->pid;
  stop_at("spawned");
  std::optional<ChildReport> report = await_exec(*spawned);
  if (report) {
    static_cast<void>(supervisor.wait_for(spawned->pid));
    stage_ = step_stage(report->step);
    bool exec_step = report->step == SetupStep::exec;
    failure.status = !exec_step ? 125 : report->err == ENOENT ? 127 : 126;
    std::string what = exec_step ? "cannot execute '" + plan.command + "'"
                                 : std::string(step_description(report->step)) + " failed";
    failure.error = what + ": " + std::strerror(report->err);
    return failure.status;
  }
  stage_ = "exec";
  if (spawned->seccomp_listener) {
    answer_notifications(std::move(spawned->seccomp_listener), supervisor);
  } else if (plan.seccomp_listener && audit_trail_off_.empty()) {
    audit_trail_off_ = "the kernel refused a seccomp listener (one is installed already): the "
                       "system call filter's refusals are not recorded";
    std::fprintf(stderr, "ringfence: %s: %s\n", policy_.unit_name.c_str(), audit_trail_off_.c_str());
  }
  if (index == 0) {
    std::string cgroup_path = cgroup_->path().substr(cgroup2_mount_.size());
    static_cast<void>(audit_log_->append(audit::start_record(
        {policy_.unit_name, invocation_id_}, realtime_now(), main_pid_,
        comm_of(plan.exec_candidates.front()), plan.argv, cgroup_path, audit_trail_off_)));
  }
  if (options_.verbose && index == 0)
    std::fprintf(stderr, "ringfence: %s: started pid %d in cgroup %s (invocation %s)\n",
                 policy_.unit_name.c_str(), main_pid_, cgroup_->path().c_str(),
                 invocation_id_.c_str());
  stop_at("running");
  return supervisor.wait_for(spawned->pid);
}

RunOutcome Invocation::supervise() {
  RunOutcome outcome;
  Result<SignalRelay> relay = SignalRelay::install();
  if (!relay)
    return {125, relay.error().message()};
  // Orphans of the service come to ringfence, which reaps them (and can wait for a
  // Type=forking daemon).
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  Supervisor supervisor(*relay, cgroup_->fd());
  if (ip_filter_ || trace_) // refusals reach the audit log while the service runs
    supervisor.every(kDenialReportInterval, [this] { report_denials(); });
  if (events_) // drained as events come, so that a flood does not fill the ring buffer
    supervisor.watch(events_->poll_fd(), [this] { drain_trace(); });
  for (std::size_t i = 0; i < plans_.size(); ++i) {
    Result<int> status = run_command(i, supervisor, outcome);
    if (!status)
      return {125, status.error().message()};
    if (!outcome.error.empty())
      return outcome;
    outcome.status = policy_.exec_start[i].ignore_failure ? 0 : *status;
    if (policy_.type == ServiceType::forking && outcome.status == 0) {
      // The daemon, if exactly one process is left (systemd's GuessMainPID).
      Result<std::vector<pid_t>> left = cgroup::cgroup_processes(cgroup_->fd());
      pid_t daemon = left && left->size() == 1 ? left->front() : 0;
      Result<int> daemon_status = supervisor.wait_until_empty(daemon);
      if (!daemon_status)
        return {125, daemon_status.error().message()};
      outcome.status = *daemon_status;
    }
    if (outcome.status != 0)
      break;
  }
  return outcome;
}

// After the kill: no packet of the run is in flight any more.
void Invocation::read_ip_accounting() {
  if (!ip_filter_ || !policy_.ip_accounting || stage_ != "exec")
    return;
  Result<netfilter::IpCounters> totals = ip_filter_->counters();
  if (!totals)
    return;
  ip_totals_ = *totals;
  if (options_.verbose)
    std::fprintf(stderr,
                 "ringfence: %s: IP traffic: ingress %llu bytes in %llu packets, egress %llu "
                 "bytes in %llu packets; dropped %llu ingress, %llu egress packets\n",
                 policy_.unit_name.c_str(),
                 static_cast<unsigned long long>(totals->ingress_bytes),
                 static_cast<unsigned long long>(totals->ingress_packets),
                 static_cast<unsigned long long>(totals->egress_bytes),
                 static_cast<unsigned long long>(totals->egress_packets),
                 static_cast<unsigned long long>(totals->dropped_ingress_packets),
                 static_cast<unsigned long long>(totals->dropped_egress_packets));
}

// The calls the seccomp filter hands over: answered as it would have, counted, attributed.
void Invocation::answer_notifications(UniqueFd listener, Supervisor &supervisor) {
  auto &notifications = listeners_.emplace_back(
      std::make_unique<seccomp::Notifications>(std::move(listener), notified_calls_));
  supervisor.watch(notifications->fd(), [this, n = notifications.get()] { answer(*n); });
}

void Invocation::answer(seccomp::Notifications &notifications) {
  std::vector<audit::TracedSyscall> traced;
  for (const seccomp::AnsweredCall &call : notifications.answer_waiting()) {
    audit::Who who{call.pid, call.comm};
    audit::SyscallTotal &total = answered_[call.nr];
    total.rule = {call.nr, call.err ? audit::SyscallAction::errno_return : audit::SyscallAction::log,
                  call.err};
    ++total.count;
    total.last = who;
    traced.push_back({call.nr, std::move(who)});
  }
  refusals_.attribute(traced);
}

void Invocation::drain_trace() {
  if (!events_)
    return;
  std::vector<audit::TracedSyscall> syscalls;
  events_->drain(syscalls);
  refusals_.attribute(syscalls);
  kills_traced_ |= !syscalls.empty(); // the only syscall events are the kills
}

// The counters' growth since the last report, attributed to the processes traced.
// Reads only what may have grown: an idle run costs the machine one map lookup per report
// (the denials and rules tables are shared by all runs below the parent).
void Invocation::report_denials(bool final) {
  if (!audit_log_)
    return;
  drain_trace();
  std::vector<netfilter::Denial> ip;
  std::uint64_t ip_unattributed = 0;
  if (ip_filter_) {
    netfilter::RunFilter::Refusals refusals = ip_filter_->refusals();
    if (refusals.total != ip_refusals_read_) {
      ip = ip_filter_->denial_totals();
      ip_refusals_read_ = refusals.total;
    }
    ip_unattributed = refusals.unattributed;
  }
  std::vector<audit::SyscallTotal> syscalls;
  if (trace_ && (final || kills_traced_)) { // a kill lost to a full ring buffer: at the end
    syscalls = trace_->syscall_totals();
    kills_traced_ = false;
  }
  for (const auto &[nr, total] : answered_)
    syscalls.push_back(total);
  for (const std::string &record : refusals_.records({policy_.unit_name, invocation_id_},
                                                     realtime_now(), ip, ip_unattributed, syscalls))
    static_cast<void>(audit_log_->append(record));
}

void Invocation::record_exit(const RunOutcome &outcome) {
  if (!audit_log_)
    return;
  auto elapsed = std::chrono::steady_clock::now() - started_;
  audit::ExitFacts facts{
      outcome.status,
      static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()),
      stage_, ip_totals_};
  std::string comm = plans_.empty() ? std::string() : comm_of(plans_.front().exec_candidates.front());
  static_cast<void>(audit_log_->append(audit::exit_record(
      {policy_.unit_name, invocation_id_}, realtime_now(), main_pid_, comm, facts)));
}

RunOutcome Invocation::run() {
  RunOutcome outcome;
  if (Status prepared = prepare(); !prepared)
    outcome = {125, prepared.error().message()};
  else
    outcome = supervise();
  if (cgroup_) {
    // Calls handed over since the last poll get their answer and their record.
    for (const auto &notifications : listeners_)
      if (notifications->has_waiting())
        answer(*notifications);
    // The run is over when the main process is: whatever it left behind goes with it.
    Status killed = cgroup_->remove_if_empty() ? Status(Ok{}) : cgroup_->kill_all();
    read_ip_accounting();
    report_denials(true); // the last ones: nothing in the cgroup runs any more
    Status removed = cgroup_->remove();
    if ((!killed || !removed) && outcome.error.empty())
      outcome.error = (!killed ? killed : removed).error().message();
  }
  record_exit(outcome);
  return outcome;
}

RunOutcome launch(const Policy &policy, const LaunchOptions &options) {
  Invocation invocation(policy, options);
  return invocation.run();
}

Result<std::vector<std::string>> collect_garbage(const std::string &cgroup_parent) {
  Result<std::string> mount = cgroup::find_cgroup2_mount();
  if (!mount)
    return mount.error();
  Result<cgroup::Parent> parent = cgroup::resolve_parent(*mount, cgroup_parent);
  if (!parent)
    return parent.error();
  Result<std::vector<std::string>> reaped = cgroup::reap_stale_invocations(parent->path);
  if (!reaped)
    return reaped.error();
  // The IP rules of the reaped runs (their supervisors could not remove them).
  UniqueFd parent_fd(::open(parent->path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent_fd)
    return Error::from_errno("Failed to open cgroup '" + parent->path + "'");
  Result<cgroup::ParentLock> lock = cgroup::ParentLock::acquire(parent_fd.get());
  if (!lock)
    return lock.error();
  Result<std::optional<netfilter::ParentFilter>> filter =
      netfilter::ParentFilter::find(parent_fd.get());
  if (!filter)
    return filter.error();
  if (*filter) {
    Result<std::set<std::uint64_t>> live = cgroup::invocation_ids(parent->path);
    if (!live)
      return live.error();
    RF_TRY((*filter)->sweep(*live));
  }
  return reaped;
}

} // namespace rf::launch
