// Reports what a service inherited: its pid, its open file descriptors (without the one
// it opens to list them) and the socket-activation variables, one "key=value" a line.
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <set>
#include <string>
#include <unistd.h>

int main() {
  DIR *dir = opendir("/proc/self/fd");
  if (!dir) {
    std::perror("opendir /proc/self/fd");
    return 1;
  }
  std::set<int> fds;
  while (const dirent *entry = readdir(dir)) {
    if (entry->d_name[0] == '.')
      continue;
    int fd = std::atoi(entry->d_name);
    if (fd != dirfd(dir))
      fds.insert(fd);
  }
  closedir(dir);

  std::string listed;
  for (int fd : fds)
    listed += (listed.empty() ? "" : ",") + std::to_string(fd);
  std::printf("pid=%d\nfds=%s\n", static_cast<int>(getpid()), listed.c_str());
  for (const char *name : {"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"}) {
    const char *value = std::getenv(name);
    std::printf("%s=%s\n", name, value ? value : "(unset)");
  }
  return 0;
}
