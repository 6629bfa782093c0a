// The MCP lifecycle on top of the dispatcher: initialize with version negotiation, initialized,
// ping, shutdown/exit, logging/setLevel, and the tool table behind tools/list and tools/call.
// Tools are registered by server/ with their schemas; this layer checks the call's envelope
// (name, arguments object) and leaves the arguments to the tool.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "protocol/dispatcher.h"

namespace cordon::protocol {

inline const std::vector<std::string>& SupportedProtocolVersions() {
  static const std::vector<std::string> versions = {"2025-11-25", "2025-06-18", "2025-03-26"};
  return versions;
}
// The requested version when supported, else the latest one.
std::string NegotiateProtocolVersion(const Json& requested);

// RFC 5424 severities as MCP names them, lowest first.
enum class LogLevel { kDebug, kInfo, kNotice, kWarning, kError, kCritical, kAlert, kEmergency };
bool ParseLogLevel(const std::string& name, LogLevel* out);
const char* LogLevelName(LogLevel level);

struct ToolDefinition {
  std::string name;
  std::string title;
  std::string description;
  Json input_schema;
  Json output_schema;  // null when the tool has no structured output
  Json annotations;
};

// A tool's reply: text for the model, optional structured content, isError for real failures.
Json ToolResult(std::string text, Json structured = nullptr, bool is_error = false);

using ToolHandler = std::function<void(const Json& arguments, CallContext ctx, ReplyOnce reply)>;

struct ServerIdentity {
  std::string name = "cordon";
  std::string version;
  std::string instructions;
};

class McpServer {
 public:
  McpServer(std::shared_ptr<Dispatcher> dispatcher, ServerIdentity identity);

  void AddTool(ToolDefinition definition, ToolHandler handler);
  // Called on `exit` (LSP) with the exit code: 0 after shutdown, 1 otherwise.
  void OnExit(std::function<void(int)> fn) { on_exit_ = std::move(fn); }
  void OnShutdown(std::function<void()> fn) { on_shutdown_ = std::move(fn); }
  void OnLogLevel(std::function<void(LogLevel)> fn) { on_log_level_ = std::move(fn); }
  void OnInitialized(std::function<void(const Json& client_params)> fn) { on_initialized_ = std::move(fn); }
  // Called on `notifications/initialized`: from then on the server may send requests.
  void OnClientReady(std::function<void(const Json& client_params)> fn) { on_client_ready_ = std::move(fn); }

  const Json& client_params() const { return client_params_; }
  const std::string& negotiated_version() const { return version_; }

 private:
  void Install();

  std::shared_ptr<Dispatcher> dispatcher_;
  ServerIdentity identity_;
  std::vector<std::pair<ToolDefinition, ToolHandler>> tools_;
  std::function<void(int)> on_exit_;
  std::function<void()> on_shutdown_;
  std::function<void(LogLevel)> on_log_level_;
  std::function<void(const Json&)> on_initialized_;
  std::function<void(const Json&)> on_client_ready_;
  Json client_params_;
  std::string version_;
};

}  // namespace cordon::protocol
