// A scripted client for `cordon serve`: spawns the real binary with pipes, speaks NDJSON, and
// waits for replies with generous timeouts (never sleeps as synchronisation). Replies may come
// out of order; notifications are kept aside. Used by the file-method protocol tests.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/unique_fd.h"

namespace cordon::files_test {

using Json = nlohmann::json;

inline constexpr int kReplyTimeoutMs = 120000;

class ServeClient {
 public:
  // `cordon serve --workspace <workspace> <extra...>` with an empty XDG config home, so the
  // built-in default policy (workspace-write, network off) applies. nullptr if it cannot start.
  static std::unique_ptr<ServeClient> Start(const std::string& workspace, const std::vector<std::string>& extra = {});
  ~ServeClient();
  ServeClient(const ServeClient&) = delete;
  ServeClient& operator=(const ServeClient&) = delete;

  // Sends a request; returns its id.
  int64_t Send(const std::string& method, const Json& params);
  void Notify(const std::string& method, const Json& params);
  // The whole reply message ({"result"} or {"error"}), or nullopt on timeout / server exit.
  std::optional<Json> Wait(int64_t id, int timeout_ms = kReplyTimeoutMs);
  // Send + Wait; a missing reply is returned as {"error": {"code": 0, "message": "no reply"}}.
  Json Call(const std::string& method, const Json& params, int timeout_ms = kReplyTimeoutMs);
  // initialize + notifications/initialized; false if the handshake failed.
  bool Initialize();
  // tools/call; returns the call's result object (or the JSON-RPC error message on failure).
  Json Tool(const std::string& name, const Json& arguments);

  // The server's stderr so far (for failure messages).
  std::string Log() const;

 private:
  ServeClient() = default;
  bool ReadSome(int timeout_ms);

  pid_t pid_ = -1;
  UniqueFd to_server_;
  UniqueFd from_server_;
  std::string log_path_;
  std::string buffer_;
  std::map<int64_t, Json> replies_;
  std::vector<Json> notifications_;
  int64_t next_id_ = 1;
};

// The directory the test binaries keep scratch trees in: not under /tmp, because the sandbox
// gives commands a private /tmp and the "outside" trees must be visible (read-only) inside it
// for the escape cases to mean anything.
std::string ScratchParent();

}  // namespace cordon::files_test
