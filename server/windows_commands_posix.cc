#include <cstdio>

#include "server/windows_commands.h"

namespace cordon::server {

int WindowsCleanupCommand(const std::string&, bool) {
  std::fprintf(stderr, "cordon windows-cleanup is a Windows command: it undoes the ACL entries cordon adds on "
                       "Windows. Nothing to do on this platform.\n");
  return 2;
}

int WindowsSetupCommand(const std::string&) {
  std::fprintf(stderr, "cordon windows-setup is a Windows command: it creates the sandbox users of the elevated "
                       "Windows mode. Nothing to do on this platform.\n");
  return 2;
}

}  // namespace cordon::server
