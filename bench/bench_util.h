// Shared pieces of the process and session benches: a monotonic clock, percentiles, the
// same-run baseline (posix_spawn + waitpid of /bin/true), VmRSS, and the path of the binaries
// built beside the bench (build/bench/X -> build/server/cordon).
#pragma once

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

extern char** environ;

namespace cordon::bench {

inline int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline double Percentile(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return static_cast<double>(v[i]) / 1e3;  // microseconds
}

// posix_spawn + waitpid of /bin/true, one at a time; latencies in ns.
inline std::vector<int64_t> SpawnBaseline(int n) {
  std::vector<int64_t> out;
  char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
  for (int i = 0; i < n; ++i) {
    int64_t t0 = NowNs();
    pid_t pid;
    if (::posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ) != 0) continue;
    int st;
    ::waitpid(pid, &st, 0);
    out.push_back(NowNs() - t0);
  }
  return out;
}

inline uint64_t RssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  return 0;
}

// build/bench/<me> -> build/<rel>
inline std::string BuildPath(const std::string& rel) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  std::string self(buf, n > 0 ? static_cast<size_t>(n) : 0);
  std::string dir = self.substr(0, self.rfind('/'));
  return dir.substr(0, dir.rfind('/') + 1) + rel;
}

inline void Row(const char* what, double value, const char* unit, double baseline = 0, const char* target = "") {
  if (baseline > 0)
    std::printf("%-46s %10.1f %-6s  %6.2fx baseline  %s\n", what, value, unit, value / baseline, target);
  else
    std::printf("%-46s %10.1f %-6s  %s\n", what, value, unit, target);
  std::fflush(stdout);
}

}  // namespace cordon::bench
