#include "server/signals.h"

namespace cordon::server {

// The numbers POSIX systems use; WinProcess::Signal ends the command's job for every one.
int SignalNumber(const std::string& name) {
  if (name == "HUP") return 1;
  if (name == "INT") return 2;
  if (name == "QUIT") return 3;
  if (name == "KILL") return 9;
  if (name == "TERM") return 15;
  return 0;
}

}  // namespace cordon::server
