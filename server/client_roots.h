// The MCP client's roots (`roots/list`) as workspace directories. PROTOCOL.md §4: without
// --workspace, the default session's workspace is the roots the client offers, else the cwd.
// Only `file://` roots that name an existing directory are taken; the rest are reported so the
// log says why a root was passed over.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/jsonrpc.h"

namespace cordon::server {

// "file:///home/me/ws" -> "/home/me/ws"; "file:///C:/ws" -> "/C:/ws" (the policy path form on
// both platforms). Accepts an empty or "localhost" authority; nullopt for anything else, for
// bad percent-escapes and for an encoded NUL.
std::optional<std::string> PolicyPathFromFileUri(std::string_view uri);

struct WorkspaceRoots {
  std::vector<std::string> directories;  // policy paths, in the client's order, no duplicates
  std::vector<std::string> passed_over;  // "<uri>: <why>"
};
// Reads a `roots/list` result ({roots:[{uri, name?}]}).
WorkspaceRoots WorkspaceFromRoots(const protocol::Json& result);

}  // namespace cordon::server
