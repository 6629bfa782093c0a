#include "protocol/mcp_server.h"

#include <algorithm>

namespace cordon::protocol {
namespace {
constexpr const char* kLevelNames[] = {"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"};
}

std::string NegotiateProtocolVersion(const Json& requested) {
  const auto& versions = SupportedProtocolVersions();
  if (requested.is_string()) {
    auto want = requested.get<std::string>();
    if (std::find(versions.begin(), versions.end(), want) != versions.end()) return want;
  }
  return versions.front();
}

bool ParseLogLevel(const std::string& name, LogLevel* out) {
  for (size_t i = 0; i < std::size(kLevelNames); ++i) {
    if (name == kLevelNames[i]) {
      *out = static_cast<LogLevel>(i);
      return true;
    }
  }
  return false;
}

const char* LogLevelName(LogLevel level) { return kLevelNames[static_cast<int>(level)]; }

Json ToolResult(std::string text, Json structured, bool is_error) {
  Json result = {{"content", Json::array({Json{{"type", "text"}, {"text", std::move(text)}}})}};
  if (!structured.is_null()) result["structuredContent"] = std::move(structured);
  if (is_error) result["isError"] = true;
  return result;
}

McpServer::McpServer(std::shared_ptr<Dispatcher> dispatcher, ServerIdentity identity)
    : dispatcher_(std::move(dispatcher)), identity_(std::move(identity)) {
  Install();
}

void McpServer::AddTool(ToolDefinition definition, ToolHandler handler) {
  tools_.emplace_back(std::move(definition), std::move(handler));
}

void McpServer::Install() {
  MethodOptions early{.allowed_before_initialize = true};
  dispatcher_->Register(
      "initialize",
      [this](const Json& params, CallContext, ReplyOnce reply) {
        if (!params.is_object() || !params.contains("protocolVersion")) {
          reply.Fail(RpcError::InvalidParams("initialize: missing protocolVersion"));
          return;
        }
        client_params_ = params;
        version_ = NegotiateProtocolVersion(params["protocolVersion"]);
        Json result = {
            {"protocolVersion", version_},
            {"serverInfo", {{"name", identity_.name}, {"version", identity_.version}}},
            {"capabilities",
             {{"tools", Json::object()},
              {"resources", Json::object()},
              {"logging", Json::object()},
              {"experimental", {{"cordon", {{"protocol", 1}}}}}}},
            {"instructions", identity_.instructions},
        };
        dispatcher_->MarkInitialized();
        reply.Ok(std::move(result));
        if (on_initialized_) on_initialized_(client_params_);
      },
      early);
  dispatcher_->RegisterNotification("notifications/initialized", [this](const Json&) {
    if (on_client_ready_ && dispatcher_->initialized()) on_client_ready_(client_params_);
  });
  dispatcher_->Register("ping", [](const Json&, CallContext, ReplyOnce reply) { reply.Ok(Json::object()); }, early);
  dispatcher_->Register("shutdown", [this](const Json&, CallContext, ReplyOnce reply) {
    dispatcher_->MarkShutdown();
    if (on_shutdown_) on_shutdown_();
    reply.Ok(nullptr);
  });
  auto exit_fn = [this]() {
    if (on_exit_) on_exit_(dispatcher_->shut_down() ? 0 : 1);
  };
  dispatcher_->RegisterNotification("exit", [exit_fn](const Json&) { exit_fn(); });
  dispatcher_->Register("logging/setLevel", [this](const Json& params, CallContext, ReplyOnce reply) {
    LogLevel level;
    if (!params.contains("level") || !params["level"].is_string() ||
        !ParseLogLevel(params["level"].get<std::string>(), &level)) {
      reply.Fail(RpcError::InvalidParams("logging/setLevel: level must be one of debug, info, notice, warning, error, critical, alert, emergency"));
      return;
    }
    if (on_log_level_) on_log_level_(level);
    reply.Ok(Json::object());
  });
  dispatcher_->Register("tools/list", [this](const Json& params, CallContext, ReplyOnce reply) {
    if (params.contains("cursor") && !(params["cursor"].is_null() || params["cursor"] == "")) {
      reply.Fail(RpcError::InvalidParams("tools/list: unknown cursor"));
      return;
    }
    Json tools = Json::array();
    for (const auto& [def, handler] : tools_) {
      Json t = {{"name", def.name}, {"description", def.description}, {"inputSchema", def.input_schema}};
      if (!def.title.empty()) t["title"] = def.title;
      if (!def.output_schema.is_null()) t["outputSchema"] = def.output_schema;
      if (!def.annotations.is_null()) t["annotations"] = def.annotations;
      tools.push_back(std::move(t));
    }
    reply.Ok({{"tools", std::move(tools)}});
  });
  dispatcher_->Register("tools/call", [this](const Json& params, CallContext ctx, ReplyOnce reply) {
    if (!params.contains("name") || !params["name"].is_string()) {
      reply.Fail(RpcError::InvalidParams("tools/call: missing tool name"));
      return;
    }
    std::string name = params["name"].get<std::string>();
    Json arguments = params.value("arguments", Json::object());
    if (arguments.is_null()) arguments = Json::object();
    if (!arguments.is_object()) {
      reply.Fail(RpcError::InvalidParams("tools/call: arguments must be an object"));
      return;
    }
    for (auto& [def, handler] : tools_) {
      if (def.name == name) {
        handler(arguments, std::move(ctx), std::move(reply));
        return;
      }
    }
    reply.Fail(RpcError::InvalidParams("Unknown tool: " + name));
  });
}

}  // namespace cordon::protocol
