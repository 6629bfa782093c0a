#include "server/logging.h"

#include <algorithm>
#include <mutex>
#include <vector>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace cordon::server {

struct ClientLogSubscription::Entry {
  std::weak_ptr<protocol::Dispatcher> dispatcher;
  std::atomic<int> level{-1};  // -1: client has not asked for logs
};

namespace {

std::mutex g_mu;
std::vector<std::weak_ptr<ClientLogSubscription::Entry>> g_entries;

protocol::LogLevel ToMcp(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug: return protocol::LogLevel::kDebug;
    case spdlog::level::info: return protocol::LogLevel::kInfo;
    case spdlog::level::warn: return protocol::LogLevel::kWarning;
    case spdlog::level::err: return protocol::LogLevel::kError;
    default: return protocol::LogLevel::kCritical;
  }
}

// Forwards records to subscribed clients. Records are copied out under the lock and sent
// outside it, so a slow client cannot stall logging for the others for longer than one write.
class ClientSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::vector<std::shared_ptr<ClientLogSubscription::Entry>> targets;
    {
      std::lock_guard<std::mutex> lock(g_mu);
      for (auto& weak : g_entries)
        if (auto e = weak.lock()) targets.push_back(std::move(e));
    }
    if (targets.empty()) return;
    protocol::LogLevel level = ToMcp(msg.level);
    std::string text(msg.payload.data(), msg.payload.size());
    for (auto& e : targets) {
      int want = e->level.load();
      if (want < 0 || static_cast<int>(level) < want) continue;
      if (auto d = e->dispatcher.lock())
        d->Notify("notifications/message", {{"level", protocol::LogLevelName(level)}, {"logger", "cordon"}, {"data", text}});
    }
  }
  void flush_() override {}
};

}  // namespace

ClientLogSubscription::ClientLogSubscription(std::weak_ptr<protocol::Dispatcher> dispatcher)
    : entry_(std::make_shared<Entry>()) {
  entry_->dispatcher = std::move(dispatcher);
  std::lock_guard<std::mutex> lock(g_mu);
  g_entries.erase(std::remove_if(g_entries.begin(), g_entries.end(), [](auto& w) { return w.expired(); }), g_entries.end());
  g_entries.push_back(entry_);
}

ClientLogSubscription::~ClientLogSubscription() {
  std::lock_guard<std::mutex> lock(g_mu);
  entry_.reset();
}

void ClientLogSubscription::SetLevel(protocol::LogLevel level) { entry_->level.store(static_cast<int>(level)); }

Status InitLogging(const std::string& level, const std::string& file) {
  auto parsed = spdlog::level::from_str(level == "warning" ? "warn" : level);
  if (parsed == spdlog::level::off && level != "off")
    return MakeError(ErrorKind::kInvalidArgument, "unknown log level \"" + level + "\" (trace, debug, info, warning, error, critical, off)");
  std::vector<spdlog::sink_ptr> sinks;
  auto err = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  err->set_level(parsed);
  sinks.push_back(err);
  if (!file.empty()) {
    try {
      auto f = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file);
      f->set_level(parsed);
      sinks.push_back(f);
    } catch (const spdlog::spdlog_ex& e) {
      return MakeError(ErrorKind::kInvalidArgument, std::string("cannot open log file: ") + e.what());
    }
  }
  auto client = std::make_shared<ClientSink>();
  client->set_level(spdlog::level::debug);
  sinks.push_back(client);
  auto logger = std::make_shared<spdlog::logger>("cordon", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::debug);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
  return OkStatus();
}

}  // namespace cordon::server
