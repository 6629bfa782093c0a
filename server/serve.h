// The `cordon serve` loop: stdio (one connection) or a unix socket listener (one connection
// per client). SIGTERM/SIGINT end every connection, which kills every session's processes.
#pragma once

#include <string>

#include "server/server_context.h"

namespace cordon::server {

// `listen` is empty for stdio, else "unix:/path".
int Serve(ServerContext& context, const std::string& listen);

}  // namespace cordon::server
