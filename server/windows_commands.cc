#include "server/windows_commands.h"

namespace cordon::server {

WindowsCommands::WindowsCommands(CLI::App& app) {
  cleanup_ = app.add_subcommand("windows-cleanup",
                                "Windows: remove every ACL entry cordon recorded (and, with --users, the sandbox users)");
  cleanup_->add_flag("--users", users_, "Also remove the elevated-mode users, their group and firewall rules");
  cleanup_->add_option("--state-file", state_file_, "ACL state file (default: %LOCALAPPDATA%\\cordon\\acl-state.json)");
  setup_ = app.add_subcommand("windows-setup",
                              "Windows, as administrator: create the elevated-mode sandbox users and firewall rules");
  setup_->add_option("--credentials-file", credentials_file_,
                     "Where the DPAPI-protected passwords go (default: %LOCALAPPDATA%\\cordon\\sandbox-users.json)");
}

std::optional<int> WindowsCommands::Run() const {
  if (cleanup_->parsed()) return WindowsCleanupCommand(state_file_, users_);
  if (setup_->parsed()) return WindowsSetupCommand(credentials_file_);
  return std::nullopt;
}

}  // namespace cordon::server
