// `unelevated` mode has no way to cut a restricted token off the network: the honest limit
// is to point well-behaved tools at a dead proxy and offline switches. These variables are
// added to the command's environment when the policy's network is off, and sandbox/info
// reports network enforcement as "degraded" with that reason. Nothing stops a program that
// opens sockets itself.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace cordon::win {

std::vector<std::pair<std::string, std::string>> AdvisoryNoNetworkEnv();

// The sandbox/info reason text for unelevated network enforcement.
const char* AdvisoryNetworkReason();

}  // namespace cordon::win
