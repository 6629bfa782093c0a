#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "server/host_env.h"

extern char** environ;

namespace cordon::server {

std::string PolicyPathFromHost(const std::string& host_path) { return host_path; }

bool IsDirectory(const std::string& policy_path) {
  struct stat st {};
  return ::stat(policy_path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string HomeDirectory() {
  const char* home = std::getenv("HOME");
  return home ? home : "";
}

std::string CurrentDirectory() {
  char buf[4096];
  return ::getcwd(buf, sizeof(buf)) ? buf : "";
}

char** ServerEnvironment() { return environ; }

std::vector<std::string> ShellCommand(const std::string& command) { return {"/bin/sh", "-c", command}; }

}  // namespace cordon::server
