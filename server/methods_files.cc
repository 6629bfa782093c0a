#include "server/connection.h"
#include "server/errors.h"
#include "server/methods.h"

namespace cordon::server {

void RegisterFileMethods(Connection&, protocol::McpServer&) {}

}  // namespace cordon::server
