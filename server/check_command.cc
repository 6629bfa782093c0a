#include <cstdio>
#include <iostream>

#include "sandbox/backend.h"
#include "server/commands.h"

namespace cordon::server {

int CheckHost(ServerContext& context, bool json) {
  auto& backend = *context.sessions;
  nlohmann::json host = backend.HostJson();
  auto policy = BuildPolicy(context.config, context.workspace_roots, context.home);
  nlohmann::json out = {{"platform", backend.Platform()}, {"host", host}};
  EnforcementReport report;
  if (policy) {
    report = backend.Predict(*policy);
    out["enforcement"] = ToJson(report);
    out["policy"] = PolicyToJson(*policy);
  } else {
    out["error"] = policy.error().detail;
  }
  if (json) {
    std::cout << out.dump(2) << "\n";
    return policy ? 0 : 1;
  }
  std::printf("cordon %s on %s\n\nHost\n", CORDON_VERSION, backend.Platform().c_str());
  for (auto& [k, v] : host.items()) {
    if (k == "reasons" || k == "details") continue;
    std::printf("  %-20s %s\n", k.c_str(), v.is_string() ? v.get<std::string>().c_str() : v.dump().c_str());
  }
  if (host.contains("reasons") && !host["reasons"].empty()) {
    std::printf("\nWhat is missing\n");
    for (auto& [k, v] : host["reasons"].items()) std::printf("  %-20s %s\n", k.c_str(), v.get<std::string>().c_str());
  }
  if (!policy) {
    std::printf("\nPolicy error: %s\n", policy.error().detail.c_str());
    return 1;
  }
  std::printf("\nGuarantees for %s (%s, network %s)\n", policy->workspace_roots().front().c_str(),
              SandboxModeName(policy->mode()), NetworkModeName(policy->network()));
  auto row = [](const char* name, const Enforcement& e) {
    std::printf("  %-13s %-9s %s\n", name, e.state.c_str(), e.reason.c_str());
  };
  row("filesystem", report.filesystem);
  row("network", report.network);
  row("resources", report.resources);
  row("process tree", report.process_tree);
  bool blocked = (report.filesystem.state == "off" && policy->mode() != SandboxMode::kDangerFullAccess) ||
                 (report.network.state == "off" && policy->network() == NetworkMode::kNone);
  if (blocked)
    std::printf("\nSessions will be refused with `unsupported` on this host%s.\n",
                policy->allow_degraded() ? " (allow_degraded cannot replace namespaces)" : "");
  return 0;
}

}  // namespace cordon::server
