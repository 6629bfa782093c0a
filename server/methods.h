// Registration of the native methods and MCP tools, grouped by area. Each group binds wire
// params to typed values (bad params -> -32602 naming the field) and calls into the session.
#pragma once

#include "protocol/mcp_server.h"

namespace cordon::server {

class Connection;

// sandbox/info, session/create|close|list, and the sandbox_info tool.
void RegisterSandboxMethods(Connection& connection, protocol::McpServer& mcp);
// fs/*, patch/apply, the file tools and resources/*.
void RegisterFileMethods(Connection& connection, protocol::McpServer& mcp);

// Helpers shared by the groups.
protocol::RpcError BadParam(const std::string& method, const std::string& field, const std::string& what);
// Reads an optional string field; returns false (and fails the reply) on a wrong type.
std::string SessionIdParam(const protocol::Json& params);

}  // namespace cordon::server
