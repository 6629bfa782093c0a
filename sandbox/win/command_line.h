// argv -> the single command-line string CreateProcess takes, and the environment block.
// Quoting follows the rules of CommandLineToArgvW and the MSVC CRT, so a program that parses
// its command line the standard way gets back exactly the argv we were given. cmd.exe parses
// differently; `command` strings are passed to it verbatim after /c and are its business.
#pragma once

#include <string>
#include <vector>

namespace cordon::win {

std::wstring QuoteArgument(const std::wstring& arg);
std::wstring BuildCommandLine(const std::vector<std::string>& argv);

// "NAME=value" entries -> a CREATE_UNICODE_ENVIRONMENT block, sorted case-insensitively by
// name as Windows expects, later duplicates (case-insensitive) replacing earlier ones. Entries
// with an empty name or without '=' are dropped.
std::wstring BuildEnvironmentBlock(const std::vector<std::string>& entries);

}  // namespace cordon::win
