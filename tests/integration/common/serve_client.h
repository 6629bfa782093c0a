// The scripted NDJSON client the integration tests drive `cordon serve` with: spawns the real
// binary with pipes, sends requests, and waits for replies or notifications with generous time
// limits (conditions are awaited, never slept for). Replies may come out of order; notifications
// are kept in arrival order. Shared by the process and file-method tests.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/unique_fd.h"

namespace cordon::test_client {

using Json = nlohmann::json;

inline constexpr int kReplyWaitMs = 120000;

class ServeClient {
 public:
  // `cordon serve --workspace <workspace> <extra...>` with an empty XDG config home (built-in
  // default policy). nullptr if it cannot start.
  static std::unique_ptr<ServeClient> Start(const std::string& workspace, const std::vector<std::string>& extra = {});
  // `cordon serve <extra...>` started in `cwd`, without --workspace (the cwd or the MCP
  // client's roots decide the workspace).
  static std::unique_ptr<ServeClient> StartIn(const std::string& cwd, const std::vector<std::string>& extra = {});
  ~ServeClient();
  ServeClient(const ServeClient&) = delete;
  ServeClient& operator=(const ServeClient&) = delete;

  int64_t Send(const std::string& method, const Json& params);
  void Notify(const std::string& method, const Json& params);
  // Answers a request the server sent (it arrives among notifications(), with an id).
  void Respond(const Json& id, const Json& result);
  // The whole reply ({"result"} or {"error"}), or nullopt on timeout / server exit.
  std::optional<Json> Wait(int64_t id, int timeout_ms = kReplyWaitMs);
  Json Call(const std::string& method, const Json& params, int timeout_ms = kReplyWaitMs);
  // initialize + notifications/initialized; false if the handshake failed.
  bool Initialize(const Json& capabilities = Json::object());
  // tools/call; the call's result object (or the whole error reply on failure).
  Json Tool(const std::string& name, const Json& arguments);
  // Waits until a notification (in arrival order, from the start) satisfies `match`; returns it.
  std::optional<Json> WaitNotification(const std::function<bool(const Json&)>& match, int timeout_ms = kReplyWaitMs);
  // process/closed for `process_id` has arrived (waits for it).
  bool WaitClosed(const std::string& process_id, int timeout_ms = kReplyWaitMs);
  // Every process/* notification of one process, in arrival order.
  std::vector<Json> EventsOf(const std::string& process_id) const;
  // Concatenated decoded process/output data of one process.
  std::string OutputOf(const std::string& process_id) const;
  const std::vector<Json>& notifications() const { return notifications_; }
  // Reads what is available for up to `timeout_ms` (0: only what is already there).
  bool Pump(int timeout_ms);

  // Closes our end of the server's stdin (a client disconnect) and waits for the server to exit,
  // reading its output meanwhile unless `drain` is false (a client that stopped reading).
  bool Disconnect(int timeout_ms = kReplyWaitMs, bool drain = true);
  pid_t pid() const { return pid_; }
  // Bytes the server has written that we have not read yet (what sits in the pipe).
  size_t Unread() const;
  std::string Log() const;

 private:
  ServeClient() = default;
  static std::unique_ptr<ServeClient> Launch(const std::string& dir, bool as_workspace, const std::vector<std::string>& extra);
  void WriteLine(const std::string& line);

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

std::string Base64(const std::string& bytes);
std::string Unbase64(const std::string& text);

}  // namespace cordon::test_client
