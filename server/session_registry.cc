#include "server/session_registry.h"

#include <chrono>
#include <ctime>

namespace cordon::server {
namespace {
std::string NowIso() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}
}  // namespace

Result<Policy> SessionRegistry::BasePolicy() const {
  std::vector<std::string> roots;
  {
    std::lock_guard<std::mutex> lock(mu_);
    roots = default_roots_.empty() ? context_.workspace_roots : default_roots_;
  }
  return BuildPolicy(context_.config, roots, context_.home);
}

bool SessionRegistry::SetDefaultWorkspace(std::vector<std::string> roots) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!default_id_.empty()) return false;
  default_roots_ = std::move(roots);
  return true;
}

bool SessionRegistry::default_created() {
  std::lock_guard<std::mutex> lock(mu_);
  return !default_id_.empty();
}

Result<std::shared_ptr<SessionEntry>> SessionRegistry::Default() {
  std::lock_guard<std::mutex> create_lock(default_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!default_id_.empty()) {
      auto it = sessions_.find(default_id_);
      if (it != sessions_.end()) return it->second;
    }
  }
  auto policy = BasePolicy();
  if (!policy) return policy.error();
  auto entry = Create(*policy);
  if (!entry) return entry.error();
  std::lock_guard<std::mutex> lock(mu_);
  default_id_ = (*entry)->id;
  return entry;
}

Result<std::shared_ptr<SessionEntry>> SessionRegistry::Get(const std::string& id) {
  if (id.empty()) return Default();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return MakeError(ErrorKind::kNotFound, "unknown session " + id);
  return it->second;
}

Result<std::shared_ptr<SessionEntry>> SessionRegistry::Create(const Policy& policy) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (sessions_.size() >= 64) return MakeError(ErrorKind::kLimitExceeded, "too many sessions on this connection (64)");
  }
  auto sandbox = context_.sessions->CreateSession(policy);
  if (!sandbox) return sandbox.error();
  auto entry = std::make_shared<SessionEntry>();
  entry->sandbox = std::move(*sandbox);
  entry->created_at = NowIso();
  std::lock_guard<std::mutex> lock(mu_);
  entry->id = "s" + std::to_string(next_id_++);
  sessions_[entry->id] = entry;
  return entry;
}

Status SessionRegistry::Close(const std::string& id) {
  std::shared_ptr<SessionEntry> entry;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return MakeError(ErrorKind::kNotFound, "unknown session " + id);
    entry = it->second;
    sessions_.erase(it);
    if (id == default_id_) default_id_.clear();
  }
  entry->sandbox->Close();
  return OkStatus();
}

std::vector<std::shared_ptr<SessionEntry>> SessionRegistry::List() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<SessionEntry>> out;
  for (auto& [id, e] : sessions_) out.push_back(e);
  return out;
}

void SessionRegistry::CloseAll() {
  std::map<std::string, std::shared_ptr<SessionEntry>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    all.swap(sessions_);
    default_id_.clear();
  }
  for (auto& [id, e] : all) e->sandbox->Close();
}

}  // namespace cordon::server
