// The cordon binary: `serve` (the JSON-RPC/MCP server), `run` (one sandboxed command),
// `check` (what this host can enforce) and `--version`.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "sandbox/backend.h"
#include "server/client_command.h"
#include "server/commands.h"
#include "server/host_env.h"
#include "server/logging.h"
#include "server/serve.h"
#include "server/windows_commands.h"

using namespace cordon;
using namespace cordon::server;

namespace cordon::server {

bool BuildContext(ServerContext* ctx, const std::string& workspace, const std::string& config_path,
                  const std::vector<std::string>& overrides) {
  auto config = LoadConfig(config_path, overrides);
  if (!config) {
    std::fprintf(stderr, "cordon: config: %s\n", config.error().detail.c_str());
    return false;
  }
  ctx->config = std::move(*config);
  std::error_code ec;
  std::string ws = workspace.empty() ? std::filesystem::current_path(ec).string() : workspace;
  auto abs = std::filesystem::absolute(ws, ec);
  if (ec || !std::filesystem::is_directory(abs, ec)) {
    std::fprintf(stderr, "cordon: workspace %s is not a directory\n", ws.c_str());
    return false;
  }
  ctx->workspace_roots = {PolicyPathFromHost(abs.lexically_normal().string())};
  if (ctx->workspace_roots[0].size() > 1 && ctx->workspace_roots[0].back() == '/') ctx->workspace_roots[0].pop_back();
  ctx->workspace_from_cli = !workspace.empty();
  ctx->home = HomeDirectory();
  ctx->sessions = MakeSandboxBackend(BackendOptions{ctx->config.windows_sandbox, ""});
  return true;
}

}  // namespace cordon::server

int main(int argc, char** argv) {
  CLI::App app{"cordon: a sandbox execution server for coding agents and editors"};
  app.set_version_flag("--version", std::string("cordon ") + CORDON_VERSION);
  app.require_subcommand(1);

  std::string workspace, config_path, log_level = "info", log_file, listen, network;
  std::vector<std::string> overrides;
  bool json = false;
  auto common = [&](CLI::App* sub) {
    sub->add_option("--workspace", workspace, "Workspace directory (default: the current directory)");
    sub->add_option("--config", config_path, "config.toml (default: $XDG_CONFIG_HOME/cordon/config.toml)");
    sub->add_option("-c", overrides, "Override a config key: -c key=value (value parsed as TOML)")->allow_extra_args(false);
  };

  auto* serve = app.add_subcommand("serve", "Serve JSON-RPC/MCP on stdio (or a unix socket)");
  common(serve);
  serve->add_option("--listen", listen, "unix:PATH to serve on a unix socket instead of stdio");
  serve->add_option("--log-level", log_level, "trace, debug, info, warning, error, critical, off");
  serve->add_option("--log-file", log_file, "Also write logs to this file");

  auto* run = app.add_subcommand("run", "Run one command in the sandbox: cordon run [options] -- CMD ARGS...");
  common(run);
  std::vector<std::string> command;
  run->add_option("--network", network, "none or full");
  run->add_option("command", command, "The command and its arguments (after --)");
  run->positionals_at_end();

  auto* check = app.add_subcommand("check", "Report what this host can enforce");
  common(check);
  check->add_flag("--json", json, "Print JSON");

  WindowsCommands windows(app);
  ClientCommand client(app);
  CLI11_PARSE(app, argc, argv);
  if (serve->parsed()) PrepareProcessSignals();  // before any thread starts
  if (auto code = windows.Run()) return *code;
  if (auto code = client.Run()) return *code;

  if (Status s = InitLogging(serve->parsed() ? log_level : "warning", serve->parsed() ? log_file : ""); !s) {
    std::fprintf(stderr, "cordon: %s\n", s.error().detail.c_str());
    return 2;
  }
  ServerContext ctx;
  if (!BuildContext(&ctx, workspace, config_path, overrides)) return 2;

  if (check->parsed()) return CheckHost(ctx, json);
  if (run->parsed()) return RunCommand(ctx, RunOptions{command, network});

  spdlog::info("cordon {} serving workspace {} ({})", CORDON_VERSION, ctx.workspace_roots[0], ctx.config.source);
  if (auto policy = BuildPolicy(ctx.config, ctx.workspace_roots, ctx.home); policy) {
    auto report = ctx.sessions->Predict(*policy);
    for (auto [name, e] : {std::pair<const char*, Enforcement*>{"filesystem", &report.filesystem},
                           {"network", &report.network}, {"resources", &report.resources},
                           {"process tree", &report.process_tree}}) {
      if (e->state == "degraded" || (e->state == "off" && std::string(name) != "network"))
        spdlog::warn("{} confinement is {}: {}", name, e->state, e->reason);
    }
    if (ctx.config.pool_size > 0) ctx.sessions->Prewarm(*policy, ctx.config.pool_size);
  } else {
    spdlog::warn("the default policy is invalid: {}", policy.error().detail);
  }
  return Serve(ctx, listen);
}
