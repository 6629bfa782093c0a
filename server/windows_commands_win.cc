#include <cstdio>

#include "sandbox/win/windows_admin.h"
#include "sandbox/status.h"
#include "server/windows_commands.h"

namespace cordon::server {

int WindowsCleanupCommand(const std::string& state_file, bool include_users) {
  auto report = win::WindowsCleanup(state_file, include_users);
  if (!report) {
    std::fprintf(stderr, "cordon windows-cleanup: %s\n", report.error().detail.c_str());
    return 1;
  }
  std::printf("removed %d recorded ACL entries (state file %s)%s\n", report->aces_removed,
              report->acl_state_file.c_str(), report->users_removed ? "; removed the sandbox users" : "");
  return 0;
}

int WindowsSetupCommand(const std::string& credentials_file) {
  if (Status st = win::WindowsSetup(credentials_file); !st) {
    std::fprintf(stderr, "cordon windows-setup: %s\n", st.error().detail.c_str());
    return st.error().kind == ErrorKind::kUnsupported ? 2 : 1;
  }
  std::printf("created the sandbox users and firewall rules; credentials stored with DPAPI in %s\n",
              credentials_file.empty() ? win::DefaultCredentialsFile().c_str() : credentials_file.c_str());
  return 0;
}

}  // namespace cordon::server
