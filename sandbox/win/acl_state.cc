#include "sandbox/win/acl_state.h"

#include <windows.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sandbox/win/win_util.h"

namespace cordon::win {

const char* AceKindName(AceKind kind) { return kind == AceKind::kAllowWrite ? "allow-write" : "deny-write"; }

std::string AclStateToJson(const AclState& state) {
  nlohmann::json aces = nlohmann::json::array();
  for (const auto& a : state.aces) {
    aces.push_back({{"path", a.path}, {"sid", a.sid}, {"kind", AceKindName(a.kind)}, {"mask", a.mask},
                    {"inherit", a.inherit}});
  }
  nlohmann::json doc = {{"version", state.version}, {"aces", aces}};
  return doc.dump(2) + "\n";
}

Result<AclState> AclStateFromJson(const std::string& text) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return MakeError(ErrorKind::kInternal, "ACL state is not JSON");
  AclState state;
  try {
    state.version = doc.at("version").get<int>();
    if (state.version != 1)
      return MakeError(ErrorKind::kInternal, "ACL state version " + std::to_string(state.version) + " unknown");
    for (const auto& a : doc.at("aces")) {
      AceRecord r;
      r.path = a.at("path").get<std::string>();
      r.sid = a.at("sid").get<std::string>();
      std::string kind = a.at("kind").get<std::string>();
      if (kind == "allow-write") {
        r.kind = AceKind::kAllowWrite;
      } else if (kind == "deny-write") {
        r.kind = AceKind::kDenyWrite;
      } else {
        return MakeError(ErrorKind::kInternal, "ACL state: unknown kind \"" + kind + "\"");
      }
      r.mask = a.at("mask").get<uint32_t>();
      r.inherit = a.at("inherit").get<bool>();
      state.aces.push_back(r);
    }
  } catch (const nlohmann::json::exception& e) {
    return MakeError(ErrorKind::kInternal, std::string("ACL state: ") + e.what());
  }
  return state;
}

Result<AclState> LoadAclState(const std::string& file) {
  std::ifstream in(Utf8ToWide(file).c_str(), std::ios::binary);
  if (!in) {
    DWORD attrs = ::GetFileAttributesW(Utf8ToWide(file).c_str());
    if (attrs == INVALID_FILE_ATTRIBUTES) return AclState{};
    return MakeError(ErrorKind::kInternal, "cannot read ACL state " + file);
  }
  std::stringstream buf;
  buf << in.rdbuf();
  auto state = AclStateFromJson(buf.str());
  if (!state) return MakeError(ErrorKind::kInternal, file + ": " + state.error().detail);
  return state;
}

Status SaveAclState(const std::string& file, const AclState& state) {
  std::wstring target = Utf8ToWide(file);
  std::wstring tmp = target + L".tmp";
  {
    std::ofstream out(tmp.c_str(), std::ios::binary | std::ios::trunc);
    if (!out) return MakeError(ErrorKind::kInternal, "cannot write ACL state " + file);
    out << AclStateToJson(state);
    out.flush();
    if (!out) return MakeError(ErrorKind::kInternal, "cannot write ACL state " + file);
  }
  if (!::MoveFileExW(tmp.c_str(), target.c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
    return WinError(ErrorKind::kInternal, "MoveFileExW(" + file + ")");
  return OkStatus();
}

}  // namespace cordon::win
