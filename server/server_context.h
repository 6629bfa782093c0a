// What every connection of one server process shares: the loaded configuration, the
// default workspace, and the backend that builds sandbox sessions (with its worker pool).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sandbox/backend.h"
#include "sandbox/session.h"
#include "server/config.h"

namespace cordon::server {

struct ServerContext {
  Config config;
  std::vector<std::string> workspace_roots;  // --workspace, else the cwd
  bool workspace_from_cli = false;           // --workspace given: the client's roots are not asked
  std::string home;
  std::unique_ptr<SandboxBackend> sessions;
};

}  // namespace cordon::server
