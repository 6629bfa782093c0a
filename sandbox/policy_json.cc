#include "sandbox/policy.h"

namespace cordon {

nlohmann::json PolicyToJson(const Policy& p) {
  const auto& l = p.limits();
  return {
      {"mode", SandboxModeName(p.mode())},
      {"workspaceRoots", p.workspace_roots()},
      {"writableRoots", p.writable_roots()},
      {"protectedPaths", p.protected_paths()},
      {"readDeny", p.read_deny()},
      {"network", NetworkModeName(p.network())},
      {"allowDegraded", p.allow_degraded()},
      {"limits",
       {{"memoryBytes", l.memory_bytes},
        {"maxProcesses", l.max_processes},
        {"cpuSeconds", l.cpu_seconds},
        {"wallTimeoutMs", l.wall_timeout_ms},
        {"maxOutputBytes", l.max_output_bytes},
        {"maxFileBytes", l.max_file_bytes},
        {"tmpBytes", l.tmp_bytes},
        {"maxOpenFiles", l.max_open_files}}},
      {"env",
       {{"inheritAll", p.env().inherit_all},
        {"inherit", p.env().inherit},
        {"exclude", p.env().exclude},
        {"set", p.env().set}}},
  };
}

Result<Policy> PolicyFromJson(const nlohmann::json& j) {
  try {
    PolicyBuilder b;
    b.ClearDefaults();
    auto mode = ParseSandboxMode(j.at("mode").get<std::string>());
    if (!mode) return mode.error();
    b.Mode(*mode);
    for (const auto& r : j.at("workspaceRoots")) b.WorkspaceRoot(r.get<std::string>());
    if (*mode == SandboxMode::kWorkspaceWrite)
      for (const auto& r : j.at("writableRoots")) b.WritableRoot(r.get<std::string>());
    for (const auto& r : j.at("protectedPaths")) b.ProtectedPath(r.get<std::string>());
    for (const auto& r : j.at("readDeny")) b.ReadDeny(r.get<std::string>());
    auto net = ParseNetworkMode(j.at("network").get<std::string>());
    if (!net) return net.error();
    b.Network(*net);
    b.AllowDegraded(j.value("allowDegraded", false));
    const auto& lj = j.at("limits");
    ResourceLimits l;
    l.memory_bytes = lj.at("memoryBytes");
    l.max_processes = lj.at("maxProcesses");
    l.cpu_seconds = lj.at("cpuSeconds");
    l.wall_timeout_ms = lj.at("wallTimeoutMs");
    l.max_output_bytes = lj.at("maxOutputBytes");
    l.max_file_bytes = lj.at("maxFileBytes");
    l.tmp_bytes = lj.at("tmpBytes");
    l.max_open_files = lj.at("maxOpenFiles");
    b.Limits(l);
    EnvPolicy env;
    const auto& ej = j.at("env");
    env.inherit_all = ej.at("inheritAll");
    env.inherit = ej.at("inherit").get<std::vector<std::string>>();
    env.exclude = ej.at("exclude").get<std::vector<std::string>>();
    env.set = ej.at("set").get<std::map<std::string, std::string>>();
    b.Env(env);
    return b.Build();
  } catch (const nlohmann::json::exception& e) {
    return MakeError(ErrorKind::kInvalidArgument, std::string("malformed policy: ") + e.what());
  }
}

}  // namespace cordon
