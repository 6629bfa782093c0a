// The process-service tests' view of the shared test client (tests/integration/common), and the
// /proc helpers the kill-path tests use to prove that no descendant of the server survives.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/integration/common/serve_client.h"

namespace cordon::proc_test {

using Json = nlohmann::json;
using ProcClient = test_client::ServeClient;
using test_client::Base64;
using test_client::Unbase64;

inline constexpr int kWaitMs = 60000;

// A process seen in /proc, identified by pid and start time (so a reused pid is not mistaken
// for the same process).
struct ProcEntry {
  pid_t pid;
  unsigned long long start_time;
};
// Every live (non-zombie) descendant of `root`.
std::vector<ProcEntry> Descendants(pid_t root);
// Live (non-zombie) processes whose command line contains `marker`.
std::vector<ProcEntry> WithMarker(const std::string& marker);
// Which of `entries` are still alive (same pid and start time, not a zombie).
std::vector<ProcEntry> StillAlive(const std::vector<ProcEntry>& entries);
// Waits until none of `entries` is alive; returns the survivors after `timeout_ms`.
std::vector<ProcEntry> AwaitGone(const std::vector<ProcEntry>& entries, int timeout_ms = kWaitMs);
// VmRSS of a process in KiB (0 if unreadable).
uint64_t RssKb(pid_t pid);
// A scratch workspace directory (not under /tmp: the sandbox gives commands a private /tmp).
std::string MakeWorkspace(const std::string& name);

}  // namespace cordon::proc_test
