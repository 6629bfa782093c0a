#include "sandbox/linux/worker_init.h"

#include <cstring>

#include "sandbox/base64.h"

namespace cordon::linux_sandbox {
namespace {

std::string FilterToText(const std::vector<sock_filter>& f) {
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(f.data()), f.size() * sizeof(sock_filter)));
}

bool FilterFromText(const std::string& text, std::vector<sock_filter>* out) {
  auto bytes = Base64Decode(text);
  if (!bytes || bytes->size() % sizeof(sock_filter) != 0) return false;
  out->resize(bytes->size() / sizeof(sock_filter));
  std::memcpy(out->data(), bytes->data(), bytes->size());
  return true;
}

}  // namespace

nlohmann::json ToJson(const WorkerInit& w) {
  return {
      {"t", "init"},
      {"policy", w.policy},
      {"mounts",
       {{"fullAccess", w.mounts.full_access}, {"writable", w.mounts.writable_roots},
        {"protected", w.mounts.protected_paths}, {"readDeny", w.mounts.read_deny},
        {"tmpBytes", w.mounts.tmp_bytes}, {"hideRun", w.mounts.hide_run}, {"keepResolver", w.mounts.keep_resolver}}},
      {"useMounts", w.use_mounts},
      {"landlock",
       {{"abi", w.landlock_abi}, {"ro", w.landlock.read_only}, {"rw", w.landlock.read_write},
        {"denyTcp", w.landlock.deny_tcp}, {"scope", w.landlock.scope_ipc}, {"required", w.landlock.required}}},
      {"workerFilter", FilterToText(w.worker_filter)},
      {"commandFilter", FilterToText(w.command_filter)},
      {"cgroupLimits", w.cgroup_enforces_limits},
      {"hostname", w.hostname},
  };
}

Result<WorkerInit> WorkerInitFromJson(const nlohmann::json& j) {
  try {
    WorkerInit w;
    w.policy = j.at("policy");
    const auto& m = j.at("mounts");
    w.mounts.full_access = m.at("fullAccess");
    w.mounts.writable_roots = m.at("writable").get<std::vector<std::string>>();
    w.mounts.protected_paths = m.at("protected").get<std::vector<std::string>>();
    w.mounts.read_deny = m.at("readDeny").get<std::vector<std::string>>();
    w.mounts.tmp_bytes = m.at("tmpBytes");
    w.mounts.hide_run = m.at("hideRun");
    w.mounts.keep_resolver = m.at("keepResolver");
    w.use_mounts = j.at("useMounts");
    const auto& l = j.at("landlock");
    w.landlock_abi = l.at("abi");
    w.landlock.read_only = l.at("ro").get<std::vector<std::string>>();
    w.landlock.read_write = l.at("rw").get<std::vector<std::string>>();
    w.landlock.deny_tcp = l.at("denyTcp");
    w.landlock.scope_ipc = l.at("scope");
    w.landlock.required = l.at("required");
    if (!FilterFromText(j.at("workerFilter"), &w.worker_filter) || !FilterFromText(j.at("commandFilter"), &w.command_filter))
      return MakeError(ErrorKind::kSandboxFailed, "malformed seccomp filter in worker init");
    w.cgroup_enforces_limits = j.at("cgroupLimits");
    w.hostname = j.at("hostname");
    return w;
  } catch (const nlohmann::json::exception& e) {
    return MakeError(ErrorKind::kSandboxFailed, std::string("malformed worker init: ") + e.what());
  }
}

}  // namespace cordon::linux_sandbox
