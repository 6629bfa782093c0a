// The environment a command of a Windows session starts with: the request's entries, the
// variables Windows programs cannot start without, and the session's own additions. Both
// session kinds (win_session.h, elevated_session.h) build it the same way.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace cordon::win {

// Variables Windows programs need to start at all (SystemRoot, COMSPEC, PATHEXT, TEMP ...),
// taken from the server's environment when the request's environment lacks them. They carry
// no secrets; without SystemRoot even cmd.exe fails to load some DLLs.
std::vector<std::string> WithWindowsEssentials(std::vector<std::string> env);

// WithWindowsEssentials(request_env), then each of `extra` (the session's advisory network
// variables) whose name the request does not already set - names compared without case, as
// Windows does.
std::vector<std::string> CommandEnvironment(std::vector<std::string> request_env,
                                            const std::vector<std::pair<std::string, std::string>>& extra);

}  // namespace cordon::win
