#include "tests/integration/process/proc_client.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>


namespace cordon::proc_test {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// pid, ppid, state and start time from /proc/<pid>/stat (the comm field may hold spaces).
bool ReadStat(pid_t pid, pid_t* ppid, char* state, unsigned long long* start) {
  std::string s = ReadText("/proc/" + std::to_string(pid) + "/stat");
  size_t close = s.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream in(s.substr(close + 2));
  std::string field;
  in >> *state >> *ppid;
  for (int i = 5; i < 22 && in >> field; ++i) {}  // fields 5..21
  in >> *start;                                   // field 22
  return !in.fail();
}

std::vector<pid_t> AllPids() {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    char* end;
    long v = std::strtol(e->d_name, &end, 10);
    if (*end == '\0' && v > 0) out.push_back(static_cast<pid_t>(v));
  }
  ::closedir(d);
  return out;
}

}  // namespace

std::vector<ProcEntry> Descendants(pid_t root) {
  std::map<pid_t, std::pair<pid_t, unsigned long long>> table;  // pid -> (ppid, start)
  for (pid_t pid : AllPids()) {
    pid_t ppid;
    char state;
    unsigned long long start;
    if (ReadStat(pid, &ppid, &state, &start) && state != 'Z') table[pid] = {ppid, start};
  }
  std::vector<ProcEntry> out;
  std::set<pid_t> in_tree = {root};
  for (bool grew = true; grew;) {
    grew = false;
    for (auto& [pid, info] : table) {
      if (!in_tree.count(pid) && in_tree.count(info.first)) {
        in_tree.insert(pid);
        out.push_back({pid, info.second});
        grew = true;
      }
    }
  }
  return out;
}

std::vector<ProcEntry> WithMarker(const std::string& marker) {
  std::vector<ProcEntry> out;
  for (pid_t pid : AllPids()) {
    std::string cmd = ReadText("/proc/" + std::to_string(pid) + "/cmdline");
    if (cmd.find(marker) == std::string::npos) continue;
    pid_t ppid;
    char state;
    unsigned long long start;
    if (ReadStat(pid, &ppid, &state, &start) && state != 'Z') out.push_back({pid, start});
  }
  return out;
}

std::vector<ProcEntry> StillAlive(const std::vector<ProcEntry>& entries) {
  std::vector<ProcEntry> out;
  for (const auto& e : entries) {
    pid_t ppid;
    char state;
    unsigned long long start;
    if (ReadStat(e.pid, &ppid, &state, &start) && start == e.start_time && state != 'Z') out.push_back(e);
  }
  return out;
}

std::vector<ProcEntry> AwaitGone(const std::vector<ProcEntry>& entries, int timeout_ms) {
  int64_t deadline = NowMs() + timeout_ms;
  for (;;) {
    auto alive = StillAlive(entries);
    if (alive.empty() || NowMs() >= deadline) return alive;
    ::poll(nullptr, 0, 25);  // process exit of non-children cannot be awaited portably: re-scan
  }
}

uint64_t RssKb(pid_t pid) {
  std::istringstream in(ReadText("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  return 0;
}

std::string MakeWorkspace(const std::string& name) {
  std::string parent = CORDON_PROC_SCRATCH;
  ::mkdir(parent.c_str(), 0755);
  std::string dir = parent + "/" + name + "-" + std::to_string(::getpid());
  ::mkdir(dir.c_str(), 0755);
  return dir;
}


}  // namespace cordon::proc_test
