// The `cordon serve` loop: stdio (one connection) or a unix socket listener (one connection
// per client). SIGTERM/SIGINT end every connection, which kills every session's processes.
#pragma once

#include <string>

#include "server/server_context.h"

namespace cordon::server {

// `listen` is empty for stdio, else "unix:/path".
int Serve(ServerContext& context, const std::string& listen);

// Called by main() for `serve`, before any thread exists: on POSIX, blocks the termination
// signals in every thread so that only Serve()'s signal thread takes them (a thread started
// earlier with them unblocked would let SIGTERM kill the process instead of shutting down).
void PrepareProcessSignals();

}  // namespace cordon::server
