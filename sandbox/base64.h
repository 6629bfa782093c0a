// Base64 (RFC 4648, with padding) for process output on the wire and binary IPC payloads.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cordon {

std::string Base64Encode(std::string_view bytes);
// nullopt on invalid input (bad characters or length).
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace cordon
