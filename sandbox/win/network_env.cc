#include "sandbox/win/network_env.h"

namespace cordon::win {

std::vector<std::pair<std::string, std::string>> AdvisoryNoNetworkEnv() {
  // Port 9 (discard) on loopback: connections fail fast instead of hanging.
  const std::string dead = "http://127.0.0.1:9";
  return {
      {"CORDON_NETWORK", "off-advisory"},
      {"HTTP_PROXY", dead},          {"HTTPS_PROXY", dead},      {"ALL_PROXY", dead},
      {"http_proxy", dead},          {"https_proxy", dead},      {"all_proxy", dead},
      {"NO_PROXY", "localhost,127.0.0.1,::1"},
      {"GIT_HTTP_PROXY", dead},      {"GIT_HTTPS_PROXY", dead},
      {"GIT_SSH_COMMAND", "cmd /c exit 1"},
      {"PIP_NO_INDEX", "1"},         {"PIP_DISABLE_PIP_VERSION_CHECK", "1"},
      {"NPM_CONFIG_OFFLINE", "true"}, {"CARGO_NET_OFFLINE", "true"},
  };
}

const char* AdvisoryNetworkReason() {
  return "windows unelevated mode: network blocking is advisory (proxy variables pointing at a dead "
         "port, offline switches); a program opening sockets itself is not stopped. Use "
         "[windows] sandbox = \"elevated\" for firewall rules scoped to the sandbox user.";
}

}  // namespace cordon::win
