// The process methods of one connection (PROTOCOL.md §5): process/start|read|write|resize|
// signal|terminate|list and exec, plus the MCP exec tools. Each process gets a pump thread that
// reads its output, numbers it (per-process seq), sends process/output -> process/exited ->
// process/closed in that order, and keeps a bounded tail for process/read. Writing to the
// client blocks the pump, so a slow client slows the command instead of growing our memory.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "protocol/mcp_server.h"
#include "sandbox/session.h"
#include "server/task_pool.h"

namespace cordon::server {

class Connection;

struct RetainedChunk {
  uint64_t seq;
  OutputStream stream;
  std::string data;
};

// Runs a function at most once, whichever of its triggers (news, deadline, shutdown) comes first.
struct OnceTask {
  explicit OnceTask(std::function<void()> f) : fn(std::move(f)) {}
  void Run() {
    if (!done.exchange(true)) fn();
  }
  std::atomic<bool> done{false};
  std::function<void()> fn;
};

struct ManagedProcess {
  std::string id;
  std::string session_id;
  std::vector<std::string> argv;
  std::string started_at;
  bool notify = true;          // send process/* notifications
  uint64_t max_output = 0;     // 0 = unlimited
  std::unique_ptr<SandboxProcess> proc;
  int pid = 0;

  // Everything below is guarded by mu.
  std::mutex mu;
  std::deque<RetainedChunk> retained;  // the tail kept for process/read
  size_t retained_bytes = 0;
  uint64_t dropped_through = 0;  // highest seq that has left the tail (0: nothing has)
  uint64_t next_seq = 1;
  uint64_t total_output = 0;
  bool truncated = false;
  bool exited = false;
  bool closed = false;
  ProcessResult result;
  // Long-poll readers waiting for output after a seq, or for the end.
  std::vector<std::pair<uint64_t, std::shared_ptr<OnceTask>>> waiters;
  // A reader that has seen everything through `after` has missed output that was dropped from
  // the tail: the highest seq it can no longer get, or 0 when it has missed nothing.
  uint64_t MissedAfter(uint64_t after) const { return dropped_through > after ? dropped_through : 0; }
  bool HasNewsAfter(uint64_t after) const {
    return exited || closed || (!retained.empty() && retained.back().seq > after);
  }

  // Pending stdin writes, written in arrival order by one writer thread at a time.
  struct StdinJob {
    std::string data;
    bool eof = false;
    std::function<void(Status)> done;
  };
  std::deque<StdinJob> stdin_jobs;
  bool stdin_writer = false;

  // exec: collected output and callbacks (run on the pump thread, mu not held).
  bool collect = false;
  std::string out, err;
  std::function<void(OutputStream, std::string_view)> on_output;
  std::function<void(ManagedProcess&)> on_done;
};

// Parsed spawn parameters shared by process/start, exec and the tools.
struct StartParams {
  std::string process_id;  // empty: server picks
  std::vector<std::string> argv;
  std::string cwd;
  std::vector<std::pair<std::string, std::string>> env;
  bool tty = false;
  uint16_t cols = 80, rows = 24;
  bool stdin_pipe = false;
  std::optional<std::string> stdin_data;  // exec: written then closed
  uint32_t timeout_ms = 0;
  uint64_t max_output_bytes = 0;
  std::string session_id;
};

class ProcessService {
 public:
  explicit ProcessService(Connection& connection);
  ~ProcessService();

  void Register(protocol::McpServer& mcp);
  // Kills the processes of one session; returns how many were still running.
  size_t CloseSession(const std::string& session_id);
  // Kills everything and joins the pumps (connection end).
  void Shutdown();

  // Starts a process; the entry is registered under its id when `register_id`.
  Result<std::shared_ptr<ManagedProcess>> Start(StartParams params, bool register_id,
                                                std::function<void(ManagedProcess&)> setup);
  Result<std::shared_ptr<ManagedProcess>> Find(const std::string& id);
  // Runs `fn` (with p->mu not held) once `p` has output after seq `after` or has ended, or
  // after `wait_ms`, whichever is first; at once when wait_ms is 0. Never holds a thread.
  void WhenNews(const std::shared_ptr<ManagedProcess>& p, uint64_t after, uint64_t wait_ms, std::function<void()> fn);
  std::vector<std::shared_ptr<ManagedProcess>> All();
  // Writes to the process's stdin (then closes it when `eof`) in the order the calls arrive,
  // on a thread of the process's own, so a command that never reads blocks only itself.
  // `done` gets the outcome.
  void WriteStdin(const std::shared_ptr<ManagedProcess>& p, std::string data, bool eof, std::function<void(Status)> done);
  TaskPool& pool() { return pool_; }
  Connection& connection() { return connection_; }

 private:
  void Pump(const std::shared_ptr<ManagedProcess>& p);
  // Appends one chunk (or drops it when over the cap); returns the seq given, 0 if dropped.
  uint64_t Record(ManagedProcess& p, OutputStream stream, std::string& data, bool* over_limit);
  // Fires the waiters of `p` that have news. Call with p.mu not held.
  void WakeReaders(ManagedProcess& p);
  // Bounds what finished processes keep for process/read, dropping the oldest tails first.
  void RetireClosed(const std::shared_ptr<ManagedProcess>& p);
  void TimerLoop();
  std::string NewId();

  Connection& connection_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<ManagedProcess>> processes_;
  std::set<std::string> used_ids_;
  std::vector<std::shared_ptr<ManagedProcess>> anonymous_;  // exec processes, until closed
  std::deque<std::weak_ptr<ManagedProcess>> closed_;  // oldest first, still holding a tail
  size_t closed_bytes_ = 0;
  uint64_t next_id_ = 1;
  bool shutting_down_ = false;
  size_t live_pumps_ = 0;  // pump threads are detached; Shutdown waits for this to reach 0
  std::condition_variable pumps_cv_;

  std::mutex timer_mu_;
  std::condition_variable timer_cv_;
  std::multimap<std::chrono::steady_clock::time_point, std::shared_ptr<OnceTask>> timers_;
  bool timer_stop_ = false;
  std::thread timer_;
  TaskPool pool_{8};
};

// Parses the wire params of process/start and exec into StartParams; `method` names errors.
Result<StartParams> ParseStartParams(const protocol::Json& params, const std::string& method, bool exec_style);
// UTF-8 validity and the text/base64 choice for exec output.
bool IsValidUtf8(std::string_view s);
std::string ToValidUtf8(std::string_view s);

// The MCP tools over the process service (process_tools.cc).
void RegisterProcessTools(ProcessService& service, protocol::McpServer& mcp);

}  // namespace cordon::server
