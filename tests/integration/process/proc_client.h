// A scripted NDJSON client for `cordon serve` used by the process-service tests: spawns the real
// binary with pipes, sends requests, and waits for replies or notifications with generous
// time limits (conditions are awaited, never slept for). Also the /proc helpers the kill-path
// tests use to prove that no descendant of the server survives.
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

#include "sandbox/unique_fd.h"

namespace cordon::proc_test {

using Json = nlohmann::json;

inline constexpr int kWaitMs = 60000;

class ProcClient {
 public:
  // `cordon serve --workspace <workspace> <extra...>` with an empty XDG config home (built-in
  // default policy). nullptr if it cannot start.
  static std::unique_ptr<ProcClient> Start(const std::string& workspace, const std::vector<std::string>& extra = {});
  ~ProcClient();
  ProcClient(const ProcClient&) = delete;
  ProcClient& operator=(const ProcClient&) = delete;

  int64_t Send(const std::string& method, const Json& params);
  void Notify(const std::string& method, const Json& params);
  // The whole reply ({"result"} or {"error"}), or nullopt on timeout / server exit.
  std::optional<Json> Wait(int64_t id, int timeout_ms = kWaitMs);
  Json Call(const std::string& method, const Json& params, int timeout_ms = kWaitMs);
  bool Initialize();
  // Waits until a notification (in arrival order, from the start) satisfies `match`; returns it.
  std::optional<Json> WaitNotification(const std::function<bool(const Json&)>& match, int timeout_ms = kWaitMs);
  // process/closed for `process_id` has arrived (waits for it).
  bool WaitClosed(const std::string& process_id, int timeout_ms = kWaitMs);
  // Every process/* notification of one process, in arrival order.
  std::vector<Json> EventsOf(const std::string& process_id) const;
  // Concatenated decoded process/output data of one process.
  std::string OutputOf(const std::string& process_id) const;
  const std::vector<Json>& notifications() const { return notifications_; }
  // Reads what is available for up to `timeout_ms` (0: only what is already there).
  bool Pump(int timeout_ms);

  // Closes our end of the server's stdin (a client disconnect) and waits for the server to exit,
  // reading its output meanwhile unless `drain` is false (a client that stopped reading).
  bool Disconnect(int timeout_ms = kWaitMs, bool drain = true);
  pid_t pid() const { return pid_; }
  // Bytes the server has written that we have not read yet (what sits in the pipe).
  size_t Unread() const;
  std::string Log() const;

 private:
  ProcClient() = default;

  pid_t pid_ = -1;
  bool reaped_ = false;
  UniqueFd to_server_;
  UniqueFd from_server_;
  std::string log_path_;
  std::string buffer_;
  std::map<int64_t, Json> replies_;
  std::vector<Json> notifications_;
  int64_t next_id_ = 1;
};

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
std::string Base64(const std::string& bytes);
std::string Unbase64(const std::string& text);

}  // namespace cordon::proc_test
