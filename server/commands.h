// The subcommands of the cordon binary besides `serve`: one-shot sandboxed runs and the host
// check. Each returns the process exit code.
#pragma once

#include <string>
#include <vector>

#include "server/server_context.h"

namespace cordon::server {

struct RunOptions {
  std::vector<std::string> argv;
  std::string network;  // "", "none" or "full"
};
int RunCommand(ServerContext& context, const RunOptions& options);

int CheckHost(ServerContext& context, bool json);

// Builds the shared context from the common options; prints the reason and returns false on error.
bool BuildContext(ServerContext* context, const std::string& workspace, const std::string& config_path,
                  const std::vector<std::string>& overrides);

}  // namespace cordon::server
