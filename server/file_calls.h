// Shared plumbing of the file methods, tools and resources: params bound to the fs_types structs
// (a missing or mistyped field is -32602 naming it) and operations run in the session's sandbox
// on the connection's task pool, so the reading thread keeps serving pings and cancellations.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "protocol/mcp_server.h"
#include "sandbox/session.h"
#include "sandbox/status.h"

namespace cordon::server {

class Connection;

// Binds `params` to T with its from_json; on failure returns the -32602 error to send.
template <class T>
std::optional<protocol::RpcError> BindParams(const protocol::Json& params, const std::string& method, T* out);

// The error text of a from_json exception, without nlohmann's "[json.exception...]" prefix.
std::string BindErrorText(const std::exception& e);

struct FileOpOutcome {
  Result<protocol::Json> result;       // the op's wire-shaped result, or its error
  std::shared_ptr<SandboxSession> sandbox;  // the session it ran in (null if none was found)
};

// Runs `op` ("readFile", "readDirectory", "getMetadata", "writeFile", "applyPatch") with the
// wire-shaped `request` in session `session_id` ("" = default) on the connection's pool;
// `cancel` (may be null) is passed through to the worker. `done` runs on a pool thread.
void PostFileOperation(Connection& connection, std::string session_id, std::string op, protocol::Json request,
                       protocol::CancellationToken cancel, std::function<void(FileOpOutcome)> done);

// As PostFileOperation, on the calling thread (for handlers already on the pool).
FileOpOutcome RunFileOperation(Connection& connection, const std::string& session_id, const std::string& op,
                               const protocol::Json& request, const protocol::CancellationToken& cancel);

// The MCP tools (file_tools.cc) and resources/* (resources.cc).
void RegisterFileTools(Connection& connection, protocol::McpServer& mcp);
void RegisterFileResources(Connection& connection);

// ---- implementation ----
template <class T>
std::optional<protocol::RpcError> BindParams(const protocol::Json& params, const std::string& method, T* out) {
  if (params.is_object() && params.contains("sessionId") && !params["sessionId"].is_string() &&
      !params["sessionId"].is_null())
    return protocol::RpcError::InvalidParams(method + ": field \"sessionId\" must be a string");
  try {
    *out = params.get<T>();
  } catch (const std::exception& e) {
    return protocol::RpcError::InvalidParams(method + ": " + BindErrorText(e));
  }
  return std::nullopt;
}

}  // namespace cordon::server
