// The one place where sandbox errors become wire errors (PROTOCOL.md §2).
#pragma once

#include "protocol/jsonrpc.h"
#include "sandbox/status.h"

namespace cordon::server {

protocol::RpcError ToRpcError(const Error& error);

}  // namespace cordon::server
