#include "server/config.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

namespace cordon::server {
namespace {

Error ConfigError(const std::string& origin, const toml::node* node, const std::string& key,
                  const std::string& what) {
  std::string where = origin;
  if (node && node->source().begin.line > 0) where += ":" + std::to_string(node->source().begin.line);
  return MakeError(ErrorKind::kInvalidArgument, where + ": " + key + ": " + what);
}

// A tiny typed reader over one TOML table that remembers which keys were consumed, so that
// anything left over is reported as unknown.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string prefix, const std::string& origin)
      : table_(table), prefix_(std::move(prefix)), origin_(origin) {}

  std::string Key(const std::string& k) const { return prefix_.empty() ? k : prefix_ + "." + k; }

  template <class T>
  Status Read(const std::string& key, T* out, const char* type_name) {
    seen_.push_back(key);
    const toml::node* node = table_.get(key);
    if (!node) return OkStatus();
    auto value = node->value<T>();
    if (!value || (std::is_integral_v<T> && !std::is_same_v<T, bool> && !node->is_integer()) || (std::is_same_v<T, bool> && !node->is_boolean()))
      return ConfigError(origin_, node, Key(key), std::string("expected ") + type_name);
    *out = *value;
    return OkStatus();
  }

  Status ReadUint(const std::string& key, uint64_t* out, uint64_t scale = 1) {
    int64_t v = -1;
    seen_.push_back(key);
    const toml::node* node = table_.get(key);
    if (!node) return OkStatus();
    if (!node->is_integer()) return ConfigError(origin_, node, Key(key), "expected an integer");
    v = *node->value<int64_t>();
    if (v < 0) return ConfigError(origin_, node, Key(key), "must not be negative");
    *out = static_cast<uint64_t>(v) * scale;
    return OkStatus();
  }

  Status ReadStrings(const std::string& key, std::vector<std::string>* out) {
    seen_.push_back(key);
    const toml::node* node = table_.get(key);
    if (!node) return OkStatus();
    const toml::array* arr = node->as_array();
    if (!arr) return ConfigError(origin_, node, Key(key), "expected an array of strings");
    out->clear();
    for (const auto& item : *arr) {
      auto s = item.value<std::string>();
      if (!s || !item.is_string()) return ConfigError(origin_, &item, Key(key), "expected an array of strings");
      out->push_back(*s);
    }
    return OkStatus();
  }

  const toml::table* SubTable(const std::string& key, Status* status) {
    seen_.push_back(key);
    const toml::node* node = table_.get(key);
    if (!node) return nullptr;
    if (!node->is_table()) {
      *status = ConfigError(origin_, node, Key(key), "expected a table");
      return nullptr;
    }
    return node->as_table();
  }

  Status CheckUnknown() const {
    for (const auto& [k, node] : table_) {
      std::string key(k.str());
      if (std::find(seen_.begin(), seen_.end(), key) == seen_.end())
        return ConfigError(origin_, &node, Key(key), "unknown key");
    }
    return OkStatus();
  }

 private:
  const toml::table& table_;
  std::string prefix_;
  const std::string& origin_;
  std::vector<std::string> seen_;
};

#define CORDON_TRY(expr)            \
  do {                              \
    Status _s = (expr);             \
    if (!_s) return _s.error();     \
  } while (0)

Status ApplyTable(const toml::table& root, const std::string& origin, Config* c) {
  TableReader top(root, "", origin);
  std::string mode = SandboxModeName(c->sandbox_mode);
  CORDON_TRY(top.Read<std::string>("sandbox_mode", &mode, "a string"));
  auto parsed_mode = ParseSandboxMode(mode);
  if (!parsed_mode) return ConfigError(origin, root.get("sandbox_mode"), "sandbox_mode", parsed_mode.error().detail);
  c->sandbox_mode = *parsed_mode;
  CORDON_TRY(top.Read<bool>("allow_degraded", &c->allow_degraded, "a boolean"));

  Status st = OkStatus();
  if (const toml::table* t = top.SubTable("sandbox_workspace_write", &st)) {
    TableReader r(*t, "sandbox_workspace_write", origin);
    CORDON_TRY(r.ReadStrings("writable_roots", &c->writable_roots));
    CORDON_TRY(r.Read<bool>("network_access", &c->network_access, "a boolean"));
    bool ignored = false;
    CORDON_TRY(r.Read<bool>("exclude_tmpdir_env_var", &ignored, "a boolean"));
    CORDON_TRY(r.Read<bool>("exclude_slash_tmp", &ignored, "a boolean"));
    CORDON_TRY(r.CheckUnknown());
  }
  if (!st) return st.error();
  if (const toml::table* t = top.SubTable("limits", &st)) {
    TableReader r(*t, "limits", origin);
    uint64_t v;
    v = c->limits.memory_bytes >> 20; CORDON_TRY(r.ReadUint("memory_mb", &v)); c->limits.memory_bytes = v << 20;
    v = c->limits.max_processes; CORDON_TRY(r.ReadUint("max_processes", &v)); c->limits.max_processes = static_cast<uint32_t>(v);
    v = c->limits.cpu_seconds; CORDON_TRY(r.ReadUint("cpu_seconds", &v)); c->limits.cpu_seconds = static_cast<uint32_t>(v);
    v = c->limits.wall_timeout_ms; CORDON_TRY(r.ReadUint("wall_timeout_ms", &v)); c->limits.wall_timeout_ms = static_cast<uint32_t>(v);
    CORDON_TRY(r.ReadUint("max_output_bytes", &c->limits.max_output_bytes));
    v = c->limits.max_file_bytes >> 20; CORDON_TRY(r.ReadUint("max_file_mb", &v)); c->limits.max_file_bytes = v << 20;
    v = c->limits.tmp_bytes >> 20; CORDON_TRY(r.ReadUint("tmp_mb", &v)); c->limits.tmp_bytes = v << 20;
    v = c->limits.max_open_files; CORDON_TRY(r.ReadUint("max_open_files", &v)); c->limits.max_open_files = static_cast<uint32_t>(v);
    CORDON_TRY(r.CheckUnknown());
  }
  if (!st) return st.error();
  if (const toml::table* t = top.SubTable("paths", &st)) {
    TableReader r(*t, "paths", origin);
    CORDON_TRY(r.ReadStrings("protected", &c->protected_paths));
    CORDON_TRY(r.ReadStrings("read_deny", &c->read_deny));
    CORDON_TRY(r.CheckUnknown());
  }
  if (!st) return st.error();
  if (const toml::table* t = top.SubTable("shell_environment_policy", &st)) {
    TableReader r(*t, "shell_environment_policy", origin);
    std::string inherit = c->env.inherit_all ? "all" : "core";
    CORDON_TRY(r.Read<std::string>("inherit", &inherit, "a string"));
    if (inherit == "all") c->env.inherit_all = true;
    else if (inherit == "core") c->env.inherit_all = false;
    else if (inherit == "none") { c->env.inherit_all = false; c->env.inherit.clear(); }
    else return ConfigError(origin, t->get("inherit"), "shell_environment_policy.inherit", "must be all, core or none");
    bool ignore_default_excludes = false;
    CORDON_TRY(r.Read<bool>("ignore_default_excludes", &ignore_default_excludes, "a boolean"));
    if (ignore_default_excludes) c->env.exclude.clear();
    std::vector<std::string> extra;
    CORDON_TRY(r.ReadStrings("exclude", &extra));
    c->env.exclude.insert(c->env.exclude.end(), extra.begin(), extra.end());
    std::vector<std::string> include_only;
    CORDON_TRY(r.ReadStrings("include_only", &include_only));
    if (!include_only.empty()) { c->env.inherit_all = false; c->env.inherit = include_only; }
    if (const toml::table* set = r.SubTable("set", &st)) {
      for (const auto& [k, node] : *set) {
        auto s = node.value<std::string>();
        if (!node.is_string()) return ConfigError(origin, &node, "shell_environment_policy.set." + std::string(k.str()), "expected a string");
        c->env.set[std::string(k.str())] = *s;
      }
    }
    if (!st) return st.error();
    CORDON_TRY(r.CheckUnknown());
  }
  if (!st) return st.error();
  if (const toml::table* t = top.SubTable("windows", &st)) {
    TableReader r(*t, "windows", origin);
    CORDON_TRY(r.Read<std::string>("sandbox", &c->windows_sandbox, "a string"));
    if (c->windows_sandbox != "unelevated" && c->windows_sandbox != "elevated")
      return ConfigError(origin, t->get("sandbox"), "windows.sandbox", "must be unelevated or elevated");
    CORDON_TRY(r.CheckUnknown());
  }
  if (!st) return st.error();
  if (const toml::table* t = top.SubTable("server", &st)) {
    TableReader r(*t, "server", origin);
    uint64_t mb = c->max_message_bytes >> 20;
    CORDON_TRY(r.ReadUint("max_message_mb", &mb));
    if (mb == 0) return ConfigError(origin, t->get("max_message_mb"), "server.max_message_mb", "must be at least 1");
    c->max_message_bytes = mb << 20;
    uint64_t depth = c->max_depth;
    CORDON_TRY(r.ReadUint("max_depth", &depth));
    c->max_depth = static_cast<int>(std::min<uint64_t>(depth, 100000));
    uint64_t pool = c->pool_size;
    CORDON_TRY(r.ReadUint("worker_pool", &pool));
    c->pool_size = static_cast<int>(std::min<uint64_t>(pool, 16));
    CORDON_TRY(r.CheckUnknown());
  }
  if (!st) return st.error();
  return top.CheckUnknown();
}

// Merges `overlay` into `base`, replacing leaves and merging tables.
void Merge(toml::table& base, const toml::table& overlay) {
  for (const auto& [k, node] : overlay) {
    if (node.is_table() && base.get(k) && base.get(k)->is_table()) {
      Merge(*base.get(k)->as_table(), *node.as_table());
    } else {
      base.insert_or_assign(k, node);
    }
  }
}

Result<toml::table> ParseOverride(const std::string& item) {
  auto eq = item.find('=');
  if (eq == std::string::npos || eq == 0)
    return MakeError(ErrorKind::kInvalidArgument, "-c " + item + ": expected key=value");
  std::string key = item.substr(0, eq);
  std::string value = item.substr(eq + 1);
  while (!key.empty() && key.back() == ' ') key.pop_back();
  try {
    return toml::parse(key + " = " + value, std::string_view("-c " + item));
  } catch (const toml::parse_error&) {
  }
  // Not a TOML value: take it as a string.
  std::string quoted;
  for (char ch : value) {
    if (ch == '"' || ch == '\\') quoted += '\\';
    quoted += ch;
  }
  try {
    return toml::parse(key + " = \"" + quoted + "\"", std::string_view("-c " + item));
  } catch (const toml::parse_error& e) {
    return MakeError(ErrorKind::kInvalidArgument, "-c " + item + ": " + std::string(e.description()));
  }
}

std::string ExpandHome(const std::string& path, const std::string& home) {
  if (path == "~") return home;
  if (path.rfind("~/", 0) == 0) return home + path.substr(1);
  return path;
}

}  // namespace

std::string DefaultConfigPath() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) return std::string(xdg) + "/cordon/config.toml";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.config/cordon/config.toml";
  return "";
}

Result<Config> ParseConfig(const std::string& text, const std::string& origin,
                           const std::vector<std::string>& overrides) {
  toml::table table;
  try {
    table = toml::parse(text, std::string_view(origin));
  } catch (const toml::parse_error& e) {
    return MakeError(ErrorKind::kInvalidArgument,
                     origin + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  Config config;
  config.source = origin;
  if (Status s = ApplyTable(table, origin, &config); !s) return s.error();
  for (const auto& item : overrides) {
    auto overlay = ParseOverride(item);
    if (!overlay) return overlay.error();
    Merge(table, *overlay);
    Config next;
    next.source = config.source;
    if (Status s = ApplyTable(table, "-c " + item, &next); !s) return s.error();
    config = next;
  }
  return config;
}

Result<Config> LoadConfig(const std::string& path, const std::vector<std::string>& overrides) {
  std::string file = path;
  bool explicit_path = !path.empty();
  if (!explicit_path) file = DefaultConfigPath();
  std::string text;
  if (!file.empty()) {
    std::ifstream in(file);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      text = ss.str();
    } else if (explicit_path) {
      return ErrnoError(ErrorKind::kInvalidArgument, "cannot read config " + file, errno);
    } else {
      file = "built-in defaults";
    }
  }
  return ParseConfig(text, file.empty() ? "built-in defaults" : file, overrides);
}

Result<Policy> BuildPolicy(const Config& c, const std::vector<std::string>& workspace_roots,
                           const std::string& home) {
  PolicyBuilder b = PolicyBuilder::Defaults(home);
  b.Mode(c.sandbox_mode);
  for (const auto& w : workspace_roots) b.WorkspaceRoot(w);
  if (c.sandbox_mode == SandboxMode::kWorkspaceWrite)
    for (const auto& w : c.writable_roots) b.WritableRoot(ExpandHome(w, home));
  for (const auto& p : c.protected_paths) {
    if (!p.empty() && (p[0] == '/' || p[0] == '~')) b.ProtectedPath(ExpandHome(p, home));
    else b.ProtectedName(p);
  }
  for (const auto& p : c.read_deny) b.ReadDeny(ExpandHome(p, home));
  b.Network(c.network_access || c.sandbox_mode == SandboxMode::kDangerFullAccess ? NetworkMode::kFull : NetworkMode::kNone);
  b.Limits(c.limits);
  b.Env(c.env);
  b.AllowDegraded(c.allow_degraded);
  return b.Build();
}

}  // namespace cordon::server
