// Run as a ringfence service (as root): tries every way out of the sandbox that the
// launch tests know of and prints one line per attempt, "NAME: ok" when the attempt
// worked (an escape) or "NAME: ERRNO-NAME" when the kernel refused it. Last, it prints
// "cgroup-after: PATH", its own cgroup as it sees it, and "child-cgroup-after: PATH" for
// the child that tried the user-namespace route.
//
// usage: escape-attacker CGROUP2_MOUNT PARENT_CGROUP UNIT_FILE AUDIT_LOG
//   CGROUP2_MOUNT  where the cgroup2 hierarchy is mounted outside the sandbox
//   PARENT_CGROUP  the --cgroup-parent of the run, relative to the hierarchy root
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <string>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

std::string errno_name(int err) {
  const char *name = strerrorname_np(err);
  return name ? name : "errno-" + std::to_string(err);
}

void report(const char *attempt, int err) {
  std::printf("%s: %s\n", attempt, err == 0 ? "ok" : errno_name(err).c_str());
  std::fflush(stdout);
}

// 0 when `text` was written to `path`, else the errno of the step that failed.
int write_to(const std::string &path, const std::string &text) {
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0)
    return errno;
  ssize_t n = write(fd, text.data(), text.size());
  int err = n < 0 ? errno : 0;
  close(fd);
  return err;
}

std::string own_pid() { return std::to_string(getpid()); }

std::string cgroup_line(const std::string &proc_dir) {
  FILE *file = std::fopen((proc_dir + "/cgroup").c_str(), "re");
  if (!file)
    return "(unreadable: " + errno_name(errno) + ")";
  char line[4096];
  std::string found = "(no 0:: line)";
  while (std::fgets(line, sizeof line, file))
    if (std::strncmp(line, "0::", 3) == 0) {
      found = line + 3;
      if (!found.empty() && found.back() == '\n')
        found.pop_back();
    }
  std::fclose(file);
  return found;
}

int bpf_call(int command, bpf_attr &attr) {
  long rc = syscall(SYS_bpf, command, &attr, sizeof attr);
  return rc < 0 ? errno : 0;
}

// A fresh empty directory that anyone may enter (a child in a new user namespace is
// "nobody" to the file system and must still reach it).
std::string scratch_dir() {
  char path[] = "/tmp/escape-attacker-XXXXXX";
  if (!mkdtemp(path))
    return "/";
  chmod(path, 0755);
  return path;
}

// In a child: a new user and mount namespace (optionally a new cgroup namespace too),
// mount cgroup2 there and move into the mounted root's cgroup.procs. Exit status: 0
// when all of it worked, else the errno of the step that failed. The parent reads the
// child's cgroup before reaping it, to see whether it left the subtree.
int userns_attempt(int extra_flags, const std::string &target, std::string &child_cgroup) {
  int ready[2], go[2];
  if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0)
    return errno;
  pid_t child = fork();
  if (child < 0)
    return errno;
  if (child == 0) {
    close(ready[0]);
    close(go[1]); // or the read below never sees the parent's close
    int err = 0;
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS | extra_flags) < 0)
      err = errno;
    else if (mount("none", target.c_str(), "cgroup2", 0, nullptr) < 0)
      err = errno;
    else
      err = write_to(target + "/cgroup.procs", own_pid());
    char byte = static_cast<char>(err);
    ssize_t n = write(ready[1], &byte, 1);
    n = read(go[0], &byte, 1); // stay alive until the parent has looked at us
    (void)n;
    _exit(err);
  }
  close(ready[1]);
  close(go[0]);
  char byte = 0;
  ssize_t n = read(ready[0], &byte, 1);
  (void)n;
  child_cgroup = cgroup_line("/proc/" + std::to_string(child));
  close(go[1]);
  int status = 0;
  waitpid(child, &status, 0);
  close(ready[0]);
  return WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: escape-attacker CGROUP2_MOUNT PARENT_CGROUP UNIT AUDIT_LOG\n");
    return 2;
  }
  const std::string mount_point = argv[1], parent = argv[2], unit = argv[3], log = argv[4];
  const std::string supervisor = std::to_string(getppid());

  // Move out through the cgroup file system as the sandbox shows it (its own subtree,
  // read-only) and through the outside path of the run's parent cgroup.
  report("write-cgroup-mount-procs", write_to(mount_point + "/cgroup.procs", own_pid()));
  report("write-parent-cgroup-procs",
         write_to(mount_point + parent + "/cgroup.procs", own_pid()));
  // Through other processes' views of the file system.
  report("write-init-root-cgroup-procs",
         write_to("/proc/1/root" + mount_point + "/cgroup.procs", own_pid()));
  report("write-supervisor-root-cgroup-procs",
         write_to("/proc/" + supervisor + "/root" + mount_point + "/cgroup.procs", own_pid()));

  // Make a writable cgroup2 mount of its own, or undo the read-only one.
  std::string scratch = scratch_dir();
  if (mount("none", scratch.c_str(), "cgroup2", 0, nullptr) == 0) {
    report("mount-cgroup2", 0);
    umount2(scratch.c_str(), MNT_DETACH);
  } else {
    report("mount-cgroup2", errno);
  }
  report("remount-cgroup-rw",
         mount(nullptr, mount_point.c_str(), nullptr, MS_REMOUNT | MS_BIND, nullptr) == 0 ? 0
                                                                                         : errno);
  report("umount-cgroup", umount2(mount_point.c_str(), MNT_DETACH) == 0 ? 0 : errno);

  // Detach or look at the BPF programs guarding the cgroup.
  {
    bpf_attr attr{};
    int cgroup_fd = open(mount_point.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    attr.target_fd = static_cast<__u32>(cgroup_fd);
    attr.attach_type = BPF_CGROUP_INET_EGRESS;
    report("bpf-prog-detach", cgroup_fd < 0 ? errno : bpf_call(BPF_PROG_DETACH, attr));
    if (cgroup_fd >= 0)
      close(cgroup_fd);
  }
  {
    bpf_attr attr{};
    report("bpf-prog-get-next-id", bpf_call(BPF_PROG_GET_NEXT_ID, attr));
  }

  // Rewrite its own unit, or the record of what it did.
  report("write-unit-file", write_to(unit, "# escape-attacker was here\n"));
  report("write-audit-log", write_to(log, "{\"event\":\"forged\"}\n"));

  // A user namespace gives CAP_SYS_ADMIN over new namespaces, not over the cgroup tree.
  std::string child_cgroup;
  report("userns-mount-cgroup2", userns_attempt(0, scratch, child_cgroup));
  std::string userns_child_cgroup = child_cgroup;
  int cgroupns_result = userns_attempt(CLONE_NEWCGROUP, scratch, child_cgroup);
  // Inside a new cgroup namespace the mount may work: it shows the child's own cgroup as
  // root, so moving "into the root" leaves the child where it was. Only a move out counts.
  report("userns-cgroupns-leave-subtree",
         cgroupns_result == 0 && child_cgroup != "/" ? 0 : (cgroupns_result ? cgroupns_result : EPERM));
  rmdir(scratch.c_str());

  std::printf("cgroup-after: %s\n", cgroup_line("/proc/self").c_str());
  std::printf("child-cgroup-after: %s\n", userns_child_cgroup.c_str());
  std::printf("cgroupns-child-cgroup-after: %s\n", child_cgroup.c_str());
  return 0;
}
