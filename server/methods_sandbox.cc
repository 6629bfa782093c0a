#include <spdlog/spdlog.h>

#include "server/connection.h"
#include "server/errors.h"
#include "server/methods.h"
#include "server/process_service.h"

namespace cordon::server {
namespace {

using protocol::Json;
using protocol::RpcError;

Json SandboxInfo(Connection& c, const std::shared_ptr<SessionEntry>* session, const Policy* policy) {
  Json info = {{"platform", c.context().sessions->Platform()}, {"host", c.context().sessions->HostJson()}};
  if (session) {
    info["sessionId"] = (*session)->id;
    info["enforcement"] = ToJson((*session)->sandbox->enforcement());
    info["policy"] = PolicyToJson((*session)->sandbox->policy());
  } else if (policy) {
    info["policy"] = PolicyToJson(*policy);
    info["enforcement"] = ToJson(c.context().sessions->Predict(*policy));
  }
  return info;
}

Result<PolicyOverride> ParseOverride(const Json& params) {
  PolicyOverride o;
  auto bad = [](const std::string& field, const std::string& what) {
    return MakeError(ErrorKind::kInvalidArgument, "session/create: " + field + ": " + what);
  };
  auto strings = [&](const Json& v, const std::string& field, std::vector<std::string>* out) -> Status {
    if (!v.is_array()) return bad(field, "expected an array of paths");
    for (const auto& item : v) {
      if (!item.is_string()) return bad(field, "expected an array of paths");
      out->push_back(item.get<std::string>());
    }
    return OkStatus();
  };
  if (params.contains("workspaceRoots")) {
    std::vector<std::string> roots;
    if (Status s = strings(params["workspaceRoots"], "workspaceRoots", &roots); !s) return s.error();
    o.workspace_roots = roots;
  }
  if (!params.contains("policy") || params["policy"].is_null()) return o;
  const Json& p = params["policy"];
  if (!p.is_object()) return bad("policy", "expected an object");
  for (const auto& [key, value] : p.items()) {
    if (key == "mode" || key == "sandboxMode") {
      if (!value.is_string()) return bad("policy." + key, "expected a string");
      auto m = ParseSandboxMode(value.get<std::string>());
      if (!m) return bad("policy." + key, m.error().detail);
      o.mode = *m;
    } else if (key == "writableRoots") {
      std::vector<std::string> roots;
      if (Status s = strings(value, "policy.writableRoots", &roots); !s) return s.error();
      o.writable_roots = roots;
    } else if (key == "network") {
      if (!value.is_string()) return bad("policy.network", "expected \"none\" or \"full\"");
      auto n = ParseNetworkMode(value.get<std::string>());
      if (!n) return bad("policy.network", n.error().detail);
      o.network = *n;
    } else if (key == "protected") {
      if (Status s = strings(value, "policy.protected", &o.extra_protected); !s) return s.error();
    } else if (key == "readDeny") {
      if (Status s = strings(value, "policy.readDeny", &o.extra_read_deny); !s) return s.error();
    } else if (key == "limits") {
      if (!value.is_object()) return bad("policy.limits", "expected an object");
      for (const auto& [lk, lv] : value.items()) {
        if (!lv.is_number_unsigned() && !(lv.is_number_integer() && lv.get<int64_t>() >= 0))
          return bad("policy.limits." + lk, "expected a non-negative integer");
        uint64_t v = lv.get<uint64_t>();
        if (lk == "memoryMb") o.memory_bytes = v << 20;
        else if (lk == "maxProcesses") o.max_processes = static_cast<uint32_t>(v);
        else if (lk == "cpuSeconds") o.cpu_seconds = static_cast<uint32_t>(v);
        else if (lk == "wallTimeoutMs") o.wall_timeout_ms = static_cast<uint32_t>(v);
        else if (lk == "maxOutputBytes") o.max_output_bytes = v;
        else return bad("policy.limits." + lk, "unknown limit");
      }
    } else {
      return bad("policy." + key, "unknown field");
    }
  }
  return o;
}

}  // namespace

RpcError BadParam(const std::string& method, const std::string& field, const std::string& what) {
  return RpcError::InvalidParams(method + ": " + field + ": " + what);
}

std::string SessionIdParam(const Json& params) {
  if (params.is_object() && params.contains("sessionId") && params["sessionId"].is_string())
    return params["sessionId"].get<std::string>();
  return "";
}

void RegisterSandboxMethods(Connection& c, protocol::McpServer& mcp) {
  auto& d = c.dispatcher();
  d.Register("sandbox/info", [&c](const Json& params, protocol::CallContext, protocol::ReplyOnce reply) {
    if (params.contains("sessionId") && !params["sessionId"].is_string()) {
      reply.Fail(BadParam("sandbox/info", "sessionId", "expected a string"));
      return;
    }
    std::string id = SessionIdParam(params);
    auto session = c.sessions().Get(id);
    if (!session) {
      if (!id.empty() || session.error().kind == ErrorKind::kNotFound) {
        reply.Fail(ToRpcError(session.error()));
        return;
      }
      // The default session could not be built: report the host and the reason.
      auto policy = c.sessions().BasePolicy();
      Json info = SandboxInfo(c, nullptr, policy ? &*policy : nullptr);
      info["error"] = {{"kind", ErrorKindName(session.error().kind)}, {"detail", session.error().detail}};
      reply.Ok(std::move(info));
      return;
    }
    reply.Ok(SandboxInfo(c, &*session, nullptr));
  });
  d.Register("session/create", [&c](const Json& params, protocol::CallContext, protocol::ReplyOnce reply) {
    auto override_ = ParseOverride(params);
    if (!override_) {
      reply.Fail(ToRpcError(override_.error()));
      return;
    }
    auto base = c.sessions().BasePolicy();
    if (!base) {
      reply.Fail(ToRpcError(base.error()));
      return;
    }
    auto policy = Narrow(*base, *override_);
    if (!policy) {
      reply.Fail(ToRpcError(policy.error()));
      return;
    }
    auto entry = c.sessions().Create(*policy);
    if (!entry) {
      reply.Fail(ToRpcError(entry.error()));
      return;
    }
    reply.Ok({{"sessionId", (*entry)->id}, {"policy", PolicyToJson((*entry)->sandbox->policy())},
              {"enforcement", ToJson((*entry)->sandbox->enforcement())}});
  });
  d.Register("session/close", [&c](const Json& params, protocol::CallContext, protocol::ReplyOnce reply) {
    if (!params.contains("sessionId") || !params["sessionId"].is_string()) {
      reply.Fail(BadParam("session/close", "sessionId", "required string"));
      return;
    }
    std::string id = params["sessionId"].get<std::string>();
    size_t killed = c.processes().CloseSession(id);
    if (Status s = c.sessions().Close(id); !s) {
      reply.Fail(ToRpcError(s.error()));
      return;
    }
    reply.Ok({{"killedProcesses", killed}});
  });
  d.Register("session/list", [&c](const Json&, protocol::CallContext, protocol::ReplyOnce reply) {
    Json list = Json::array();
    for (const auto& e : c.sessions().List()) {
      list.push_back({{"sessionId", e->id},
                      {"createdAt", e->created_at},
                      {"alive", e->sandbox->alive()},
                      {"workspaceRoots", e->sandbox->policy().workspace_roots()},
                      {"mode", SandboxModeName(e->sandbox->policy().mode())},
                      {"network", NetworkModeName(e->sandbox->policy().network())}});
    }
    reply.Ok({{"sessions", std::move(list)}});
  });

  protocol::ToolDefinition info;
  info.name = "sandbox_info";
  info.title = "Sandbox info";
  info.description =
      "Reports what the sandbox enforces for this workspace: which paths are writable, whether the "
      "network is reachable, the resource limits, and whether each guarantee is enforced, degraded "
      "or off on this host. Call it before planning commands that write files or use the network.";
  info.input_schema = {{"type", "object"}, {"properties", Json::object()}, {"additionalProperties", false}};
  info.output_schema = {{"type", "object"},
                        {"properties",
                         {{"platform", {{"type", "string"}}},
                          {"enforcement", {{"type", "object"}}},
                          {"host", {{"type", "object"}}},
                          {"policy", {{"type", "object"}}}}},
                        {"required", Json::array({"platform", "host"})}};
  info.annotations = {{"title", "Sandbox info"}, {"readOnlyHint", true}, {"destructiveHint", false},
                      {"idempotentHint", true}, {"openWorldHint", false}};
  mcp.AddTool(info, [&c](const Json&, protocol::CallContext, protocol::ReplyOnce reply) {
    auto session = c.sessions().Default();
    Json data;
    if (session) {
      data = SandboxInfo(c, &*session, nullptr);
    } else {
      auto policy = c.sessions().BasePolicy();
      data = SandboxInfo(c, nullptr, policy ? &*policy : nullptr);
      data["error"] = {{"kind", ErrorKindName(session.error().kind)}, {"detail", session.error().detail}};
    }
    reply.Ok(protocol::ToolResult(data.dump(2), data, false));
  });
}

}  // namespace cordon::server
