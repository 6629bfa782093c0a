// Entry points behind the Windows-only CLI commands, so server/ only parses arguments:
//   cordon windows-cleanup [--users]  removes every ACE cordon recorded (and, with --users,
//                                     the elevated-mode users, group and firewall rules);
//   cordon windows-setup              (administrator) creates the elevated-mode users, stores
//                                     their passwords with DPAPI, adds the firewall rules.
// The elevated *run* path (commands started as a sandbox user) is elevated_session.h.
#pragma once

#include <string>

#include "sandbox/status.h"

namespace cordon::win {

struct CleanupReport {
  int aces_removed = 0;
  bool users_removed = false;
  std::string acl_state_file;
};

// state_file empty: the default %LOCALAPPDATA%\cordon\acl-state.json.
Result<CleanupReport> WindowsCleanup(const std::string& state_file, bool include_users);

// credentials_file: where the DPAPI-protected passwords go (default
// %LOCALAPPDATA%\cordon\sandbox-users.json). Fails with kUnsupported without admin rights, and
// with kSandboxFailed when the created user has no SID (as under Wine, whose NetUserAdd is a stub).
Status WindowsSetup(const std::string& credentials_file);

std::string DefaultAclStateFile();
std::string DefaultCredentialsFile();

}  // namespace cordon::win
