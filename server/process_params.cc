// Wire parameters of process/start and exec (PROTOCOL.md §5) parsed into StartParams, and the
// UTF-8 checks that decide between text and base64 for exec output.
#include "server/host_env.h"
#include "server/process_service.h"

namespace cordon::server {

using protocol::Json;

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    if (n == 2 && c < 0xC2) return false;
    if (n == 3) {
      unsigned char c1 = s[i + 1];
      if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0)) return false;
    }
    if (n == 4) {
      unsigned char c1 = s[i + 1];
      if ((c == 0xF0 && c1 < 0x90) || c > 0xF4 || (c == 0xF4 && c1 >= 0x90)) return false;
    }
    i += n;
  }
  return true;
}

std::string ToValidUtf8(std::string_view s) {
  if (IsValidUtf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    size_t len = 1;
    unsigned char c = s[i];
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n > 0 && i + n <= s.size() && IsValidUtf8(s.substr(i, n))) {
      out.append(s.substr(i, n));
      len = n;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD
    }
    i += len;
  }
  return out;
}

Result<StartParams> ParseStartParams(const Json& params, const std::string& method, bool exec_style) {
  StartParams p;
  auto bad = [&](const std::string& field, const std::string& what) {
    return MakeError(ErrorKind::kInvalidArgument, method + ": " + field + ": " + what);
  };
  if (params.contains("sessionId")) {
    if (!params["sessionId"].is_string()) return bad("sessionId", "expected a string");
    p.session_id = params["sessionId"];
  }
  if (params.contains("processId") && !params["processId"].is_null()) {
    if (!params["processId"].is_string() || params["processId"].get<std::string>().empty())
      return bad("processId", "expected a non-empty string");
    p.process_id = params["processId"];
  }
  bool has_argv = params.contains("argv") && !params["argv"].is_null();
  bool has_command = params.contains("command") && !params["command"].is_null();
  if (has_argv == has_command) return bad("argv", "give exactly one of argv (array) or command (string)");
  if (has_argv) {
    const Json& a = params["argv"];
    if (!a.is_array() || a.empty()) return bad("argv", "expected a non-empty array of strings");
    for (const auto& s : a) {
      if (!s.is_string()) return bad("argv", "expected a non-empty array of strings");
      std::string arg = s.get<std::string>();
      if (arg.find('\0') != std::string::npos) return bad("argv", "arguments must not contain NUL");
      p.argv.push_back(std::move(arg));
    }
    if (p.argv[0].empty()) return bad("argv", "the program name must not be empty");
  } else {
    if (!params["command"].is_string() || params["command"].get<std::string>().empty())
      return bad("command", "expected a non-empty string");
    p.argv = ShellCommand(params["command"].get<std::string>());
  }
  if (params.contains("cwd") && !params["cwd"].is_null()) {
    if (!params["cwd"].is_string()) return bad("cwd", "expected a string");
    p.cwd = params["cwd"];
  }
  if (params.contains("env") && !params["env"].is_null()) {
    if (!params["env"].is_object()) return bad("env", "expected an object of strings");
    for (const auto& [k, v] : params["env"].items()) {
      if (!v.is_string() || k.empty() || k.find('=') != std::string::npos || k.find('\0') != std::string::npos)
        return bad("env." + k, "expected a string value and a name without '='");
      p.env.emplace_back(k, v.get<std::string>());
    }
  }
  auto uint_field = [&](const char* name, uint64_t max, uint64_t* out) -> Status {
    if (!params.contains(name) || params[name].is_null()) return OkStatus();
    const Json& v = params[name];
    if (!(v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0)))
      return bad(name, "expected a non-negative integer");
    if (v.get<uint64_t>() > max) return bad(name, "too large");
    *out = v.get<uint64_t>();
    return OkStatus();
  };
  uint64_t timeout = 0, max_out = 0, cols = 80, rows = 24;
  for (Status s : {uint_field("timeoutMs", 7ull * 24 * 3600 * 1000, &timeout), uint_field("timeout_ms", 7ull * 24 * 3600 * 1000, &timeout),
                   uint_field("maxOutputBytes", 1ull << 40, &max_out), uint_field("cols", 10000, &cols),
                   uint_field("rows", 10000, &rows)})
    if (!s) return s.error();
  p.timeout_ms = static_cast<uint32_t>(timeout);
  p.max_output_bytes = max_out;
  p.cols = static_cast<uint16_t>(cols ? cols : 80);
  p.rows = static_cast<uint16_t>(rows ? rows : 24);
  if (!exec_style) {
    if (params.contains("tty") && !params["tty"].is_null()) {
      if (!params["tty"].is_boolean()) return bad("tty", "expected a boolean");
      p.tty = params["tty"];
    }
    if (params.contains("stdin") && !params["stdin"].is_null()) {
      if (params["stdin"] == "pipe") p.stdin_pipe = true;
      else if (params["stdin"] == "null") p.stdin_pipe = false;
      else return bad("stdin", "expected \"pipe\" or \"null\"");
    } else {
      p.stdin_pipe = p.tty;
    }
  } else if (params.contains("stdin") && !params["stdin"].is_null()) {
    if (!params["stdin"].is_string()) return bad("stdin", "expected a string");
    p.stdin_data = params["stdin"].get<std::string>();
    p.stdin_pipe = true;
  }
  return p;
}

}  // namespace cordon::server
