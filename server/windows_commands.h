// The Windows maintenance subcommands, present on every platform so the CLI is the same:
//   cordon windows-cleanup [--users] [--state-file F]   undo every ACE cordon recorded
//   cordon windows-setup [--credentials-file F]         (admin) create the elevated-mode users
// On other platforms they say that they are Windows commands and exit with 2.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace cordon::server {

class WindowsCommands {
 public:
  // Adds both subcommands to `app`.
  explicit WindowsCommands(CLI::App& app);
  // After parsing: the exit code of the chosen Windows command, or nullopt if none was chosen.
  std::optional<int> Run() const;

 private:
  CLI::App* cleanup_;
  CLI::App* setup_;
  std::string state_file_;
  std::string credentials_file_;
  bool users_ = false;
};

// Implemented per platform (windows_commands_win.cc / windows_commands_posix.cc).
int WindowsCleanupCommand(const std::string& state_file, bool include_users);
int WindowsSetupCommand(const std::string& credentials_file);

}  // namespace cordon::server
