#include "server/client_roots.h"

#include <algorithm>
#include <cctype>

#include "server/host_env.h"

namespace cordon::server {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> PercentDecode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    char c = static_cast<char>(hi * 16 + lo);
    if (c == '\0') return std::nullopt;
    out.push_back(c);
    i += 2;
  }
  return out;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

// "/C:/x" or "/c|/x" (an old spelling some clients still send) -> "/C:/x".
void NormaliseDriveLetter(std::string& path) {
  if (path.size() >= 3 && path[0] == '/' && std::isalpha(static_cast<unsigned char>(path[1])) &&
      (path[2] == ':' || path[2] == '|') && (path.size() == 3 || path[3] == '/')) {
    path[1] = static_cast<char>(std::toupper(static_cast<unsigned char>(path[1])));
    path[2] = ':';
  }
}

// Collapses "." and "..", repeated and trailing slashes; nullopt when ".." would climb above "/".
std::optional<std::string> NormalisePath(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t next = path.find('/', i);
    if (next == std::string::npos) next = path.size();
    std::string part = path.substr(i, next - i);
    i = next + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
      continue;
    }
    parts.push_back(std::move(part));
  }
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

}  // namespace

std::optional<std::string> PolicyPathFromFileUri(std::string_view uri) {
  if (!StartsWithNoCase(uri, "file://")) return std::nullopt;
  std::string_view rest = uri.substr(7);
  // Query and fragment are not part of a file path.
  rest = rest.substr(0, std::min(rest.find('?'), rest.find('#')));
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view authority = rest.substr(0, slash);
  if (!authority.empty() && !StartsWithNoCase(authority, "localhost")) return std::nullopt;
  if (authority.size() != 0 && authority.size() != 9) return std::nullopt;
  auto path = PercentDecode(rest.substr(slash));
  if (!path) return std::nullopt;
  NormaliseDriveLetter(*path);
  return NormalisePath(*path);
}

WorkspaceRoots WorkspaceFromRoots(const protocol::Json& result) {
  WorkspaceRoots out;
  if (!result.is_object() || !result.contains("roots") || !result["roots"].is_array()) {
    out.passed_over.push_back("(answer): no roots array");
    return out;
  }
  for (const auto& root : result["roots"]) {
    if (!root.is_object() || !root.contains("uri") || !root["uri"].is_string()) {
      out.passed_over.push_back("(root): no uri");
      continue;
    }
    std::string uri = root["uri"].get<std::string>();
    auto path = PolicyPathFromFileUri(uri);
    if (!path) {
      out.passed_over.push_back(uri + ": not a local file:// URI");
      continue;
    }
    if (!IsDirectory(*path)) {
      out.passed_over.push_back(uri + ": not an existing directory");
      continue;
    }
    if (std::find(out.directories.begin(), out.directories.end(), *path) == out.directories.end())
      out.directories.push_back(std::move(*path));
  }
  return out;
}

}  // namespace cordon::server
