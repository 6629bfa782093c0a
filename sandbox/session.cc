#include "sandbox/session.h"

#include <fnmatch.h>

#include <algorithm>
#include <map>

namespace cordon {

nlohmann::json ToJson(const EnforcementReport& r) {
  auto one = [](const Enforcement& e) { return nlohmann::json{{"state", e.state}, {"reason", e.reason}}; };
  return {{"filesystem", one(r.filesystem)}, {"network", one(r.network)},
          {"resources", one(r.resources)}, {"processTree", one(r.process_tree)}};
}

nlohmann::json ToJson(const ProcessResult& r) {
  nlohmann::json j = {{"status", r.status},
                      {"exitCode", r.exit_code ? nlohmann::json(*r.exit_code) : nlohmann::json(nullptr)},
                      {"signal", r.signal ? nlohmann::json(*r.signal) : nlohmann::json(nullptr)},
                      {"wallMs", r.wall_ms},
                      {"cpuMs", r.cpu_ms},
                      {"maxRssKb", r.max_rss_kb},
                      {"outputTruncated", r.output_truncated}};
  if (!r.detail.empty()) j["detail"] = r.detail;
  return j;
}

const char* OutputStreamName(OutputStream s) {
  switch (s) {
    case OutputStream::kStdout: return "stdout";
    case OutputStream::kStderr: return "stderr";
    case OutputStream::kPty: return "pty";
  }
  return "stdout";
}

std::vector<std::string> BuildEnvironment(const EnvPolicy& policy, char** server_env,
                                          const std::vector<std::pair<std::string, std::string>>& extra) {
  std::map<std::string, std::string> env;
  auto excluded = [&](const std::string& name) {
    return std::any_of(policy.exclude.begin(), policy.exclude.end(), [&](const std::string& pat) {
      return fnmatch(pat.c_str(), name.c_str(), FNM_CASEFOLD) == 0;
    });
  };
  for (char** e = server_env; e && *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    std::string name = entry.substr(0, eq);
    bool inherit = policy.inherit_all ||
                   std::find(policy.inherit.begin(), policy.inherit.end(), name) != policy.inherit.end();
    if (inherit && !excluded(name)) env[name] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : policy.set) env[k] = v;
  if (!env.count("PATH")) env["PATH"] = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";
  for (const auto& [k, v] : extra) env[k] = v;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

}  // namespace cordon
