// Probes for the Linux enforcement tests: each runs in a forked child, so the restriction it
// applies (Landlock, seccomp, capabilities, rlimits) dies with it, and reports through its exit
// status: 0 when the attempted operation succeeded, its errno when it failed, and codes from
// kSetupFailed up when the child could not even set the restriction up.
#pragma once

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>

namespace cordon::testing {

// Exit codes >= this mean "the child could not set up the probe", never a probe result.
constexpr int kSetupFailed = 200;

struct ChildExit {
  int code = -1;   // exit status, or -1 when killed
  int signal = 0;  // the killing signal, or 0
  bool Exited(int expected) const { return signal == 0 && code == expected; }
};

inline ChildExit RunInChild(const std::function<int()>& probe) {
  pid_t pid = fork();
  if (pid == 0) _exit(probe() & 0xff);
  ChildExit out;
  if (pid < 0) return out;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) out.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) out.signal = WTERMSIG(status);
  return out;
}

// errno of a failed call (rc < 0), else 0. Call right after the syscall.
inline int ErrnoOf(long rc) { return rc < 0 ? errno : 0; }

// A scratch directory under /tmp owned by whoever runs the tests (root or nobody).
inline std::string MakeTempDir() {
  char tmpl[] = "/tmp/cordon-linux-test-XXXXXX";
  const char* dir = mkdtemp(tmpl);
  return dir ? dir : "";
}

inline void RemoveTree(const std::string& dir) {
  if (dir.empty()) return;
  std::string cmd = "rm -rf '" + dir + "'";
  if (system(cmd.c_str()) != 0) {
  }
}

}  // namespace cordon::testing
