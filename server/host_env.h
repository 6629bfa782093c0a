// What the server takes from the host it runs on, in the forms the platform-neutral Policy
// wants: paths as policy paths ("/home/me/ws" on POSIX, "/C:/Users/me/ws" on Windows), the
// home directory for `~` and the default read-deny list, and the server's own environment as
// UTF-8 "K=V" strings. host_env_posix.cc / host_env_win.cc implement it.
#pragma once

#include <string>
#include <vector>

namespace cordon::server {

// A path as the OS spells it (absolute) -> the policy's form; unchanged when it cannot be
// converted (the policy builder then refuses it with a clear message).
std::string PolicyPathFromHost(const std::string& host_path);
// True when the policy path names an existing directory (links followed).
bool IsDirectory(const std::string& policy_path);
// $HOME on POSIX, %USERPROFILE% on Windows, in policy form; empty when unset.
std::string HomeDirectory();
// The current directory in policy form; empty when it cannot be read.
std::string CurrentDirectory();
// The server's environment, NULL-terminated, valid for the process lifetime (for
// BuildEnvironment). Windows: taken from the wide environment block, converted to UTF-8.
char** ServerEnvironment();
// The argv that runs a `command` string (PROTOCOL.md §5): /bin/sh -c on POSIX, cmd /c on Windows.
std::vector<std::string> ShellCommand(const std::string& command);

}  // namespace cordon::server
