#include <csignal>

#include "server/signals.h"

namespace cordon::server {

int SignalNumber(const std::string& name) {
  if (name == "INT") return SIGINT;
  if (name == "TERM") return SIGTERM;
  if (name == "KILL") return SIGKILL;
  if (name == "HUP") return SIGHUP;
  if (name == "QUIT") return SIGQUIT;
  return 0;
}

}  // namespace cordon::server
