// The signal names of `process/signal` (PROTOCOL.md §5) as numbers for SandboxProcess::Signal.
// POSIX maps them to <csignal>; Windows has no such signals and its backend ends the tree for
// any of them, so there the names map to their conventional POSIX numbers.
#pragma once

#include <string>

namespace cordon::server {

// "INT", "TERM", "KILL", "HUP" or "QUIT"; 0 for any other name.
int SignalNumber(const std::string& name);

}  // namespace cordon::server
