// exec through `cordon serve` over stdio, timed from the client side, beside a same-run
// baseline of posix_spawn + waitpid of /bin/true: latency p50/p99, throughput with 1/4/16
// requests in flight, and output streaming through process/output. If the Codex CLI is
// installed for the client tests, the same /bin/true workload through `codex exec-server`.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_util.h"

namespace cordon::bench {
namespace {

using Json = nlohmann::json;

// A child speaking NDJSON on its stdin/stdout.
class Peer {
 public:
  Peer(const std::vector<std::string>& args, const std::string& xdg) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 2);
      if (!xdg.empty()) ::setenv("XDG_CONFIG_HOME", xdg.c_str(), 1);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execvp(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
  }
  ~Peer() {
    ::close(to_);
    while (ReadSome(200)) lines_.clear();
    int st;
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, &st, WNOHANG) == pid_) return;
      ::poll(nullptr, 0, 50);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &st, 0);
  }
  pid_t pid() const { return pid_; }

  void Send(const Json& msg) {
    std::string line = msg.dump() + "\n";
    for (size_t off = 0; off < line.size();) {
      ssize_t n = ::write(to_, line.data() + off, line.size() - off);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }
  void Request(int64_t id, const std::string& method, const Json& params) {
    Send({{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}});
  }
  // Next complete line (blocking up to timeout); nullopt on timeout/EOF.
  std::optional<std::string> Line(int timeout_ms = 60000) {
    for (;;) {
      size_t nl = buf_.find('\n', scan_);
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        scan_ = 0;
        return line;
      }
      scan_ = buf_.size();
      if (!ReadSome(timeout_ms)) return std::nullopt;
    }
  }
  // Reply with this id (other lines are dropped or handed to `other`).
  std::optional<Json> Wait(int64_t id) {
    for (;;) {
      auto line = Line();
      if (!line) return std::nullopt;
      if (line->find("\"method\"") != std::string::npos && line->find("\"id\"") == std::string::npos) continue;
      Json j = Json::parse(*line, nullptr, false);
      if (j.is_object() && j.contains("id") && j["id"] == id) return j;
    }
  }

 private:
  bool ReadSome(int timeout_ms) {
    pollfd p{from_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char tmp[1 << 16];
    ssize_t n = ::read(from_, tmp, sizeof(tmp));
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  std::string buf_;
  size_t scan_ = 0;
  std::vector<std::string> lines_;
};

int64_t ReplyId(const std::string& line) {
  size_t at = line.find("\"id\":");
  if (at == std::string::npos || line.find("\"method\"") != std::string::npos) return -1;
  return std::strtoll(line.c_str() + at + 5, nullptr, 10);
}

// k requests in flight until `total` replies; returns execs per second.
double Throughput(Peer& peer, int k, int total, int64_t* next_id) {
  int64_t t0 = NowNs();
  int sent = 0, done = 0;
  Json params = {{"argv", {"/bin/true"}}};
  for (; sent < k && sent < total; ++sent) peer.Request((*next_id)++, "exec", params);
  while (done < total) {
    auto line = peer.Line();
    if (!line) break;
    if (ReplyId(*line) < 0) continue;
    ++done;
    if (sent < total) {
      peer.Request((*next_id)++, "exec", params);
      ++sent;
    }
  }
  return done / (static_cast<double>(NowNs() - t0) / 1e9);
}

// head -c <bytes> /dev/zero through process/output; MB/s of decoded bytes, counted from the
// base64 length so the client's own parsing does not dominate.
double Streaming(Peer& peer, uint64_t bytes, int64_t* next_id) {
  int64_t t0 = NowNs();
  peer.Request((*next_id)++, "process/start", {{"command", "head -c " + std::to_string(bytes) + " /dev/zero"}});
  uint64_t got = 0;
  for (;;) {
    auto line = peer.Line();
    if (!line) break;
    if (line->find("\"process/closed\"") != std::string::npos) break;
    size_t at = line->find("\"data\":\"");
    if (at == std::string::npos) continue;
    size_t begin = at + 8, end = line->find('"', begin);
    size_t len = end - begin;
    size_t pad = (len >= 1 && (*line)[end - 1] == '=') + (len >= 2 && (*line)[end - 2] == '=');
    got += len / 4 * 3 - pad;
  }
  double secs = static_cast<double>(NowNs() - t0) / 1e9;
  if (got != bytes) std::printf("  (streamed %llu of %llu bytes)\n", (unsigned long long)got, (unsigned long long)bytes);
  return static_cast<double>(got) / 1e6 / secs;
}

// The same /bin/true workload through `codex exec-server --listen stdio` with a managed
// workspace-write style sandbox (read everywhere, write the workspace, network restricted).
void CodexComparison(const std::string& ws, double base_p50, double cordon_p50) {
  std::string codex = BuildPath("../tests/integration/codex_e2e/node_modules/.bin/codex");
  if (::access(codex.c_str(), X_OK) != 0) {
    std::printf("%-46s %s\n", "codex exec-server", "skipped: @openai/codex not installed in tests/integration/codex_e2e");
    return;
  }
  Peer peer({codex, "exec-server", "--listen", "stdio"}, "");
  peer.Send({{"id", 1}, {"method", "initialize"}, {"params", {{"clientName", "cordon-bench"}}}});
  if (!peer.Wait(1)) {
    std::printf("%-46s %s\n", "codex exec-server", "skipped: no reply to initialize");
    return;
  }
  peer.Send({{"method", "initialized"}, {"params", Json::object()}});
  Json sandbox = {{"permissions",
                   {{"type", "managed"},
                    {"file_system",
                     {{"type", "restricted"},
                      {"entries", {{{"path", {{"type", "path"}, {"path", "file:///"}}}, {"access", "read"}},
                                   {{"path", {{"type", "path"}, {"path", "file://" + ws}}}, {"access", "write"}}}}}},
                    {"network", "restricted"}}},
                  {"windowsSandboxLevel", "disabled"}};
  std::vector<int64_t> lat;
  std::string sandbox_type;
  for (int i = 0; i < 60; ++i) {
    std::string id = "b" + std::to_string(i);
    int64_t t0 = NowNs();
    peer.Send({{"id", 100 + i}, {"method", "process/start"},
               {"params", {{"processId", id}, {"argv", {"/bin/true"}}, {"cwd", "file://" + ws}, {"env", Json::object()},
                           {"tty", false}, {"arg0", nullptr}, {"sandbox", sandbox}}}});
    bool closed = false;
    while (auto line = peer.Line()) {
      if (line->find("\"sandboxType\"") != std::string::npos && sandbox_type.empty()) {
        Json j = Json::parse(*line, nullptr, false);
        if (j.is_object() && j.contains("result")) sandbox_type = j["result"].value("sandboxType", "");
      }
      if (line->find("\"error\"") != std::string::npos && line->find("\"id\":" + std::to_string(100 + i)) != std::string::npos) {
        std::printf("%-46s failed: %s\n", "codex exec-server", line->c_str());
        return;
      }
      if (line->find("process/closed") != std::string::npos && line->find("\"" + id + "\"") != std::string::npos) {
        closed = true;
        break;
      }
    }
    if (!closed) break;
    if (i >= 10) lat.push_back(NowNs() - t0);  // the first runs warm the binary's caches
  }
  if (lat.empty()) return;
  double p50 = Percentile(lat, 0.5);
  std::string what = "codex exec-server /bin/true p50 (" + sandbox_type + ")";
  Row(what.c_str(), p50, "us", base_p50);
  Row("codex exec-server /bin/true p99", Percentile(lat, 0.99), "us");
  std::printf("%-46s %10.1fx\n", "codex p50 / cordon exec p50", p50 / cordon_p50);
}

}  // namespace
}  // namespace cordon::bench

int main(int argc, char** argv) {
  using namespace cordon::bench;
  int n = argc > 1 ? std::atoi(argv[1]) : 400;
  bool only_stream = argc > 2 && std::string(argv[2]) == "stream";  // `exec_bench N stream`
  char ws_tmpl[] = "/tmp/cordon-exec-bench-XXXXXX";
  std::string ws = ::mkdtemp(ws_tmpl);
  std::string xdg = ws + "-xdg";
  ::mkdir(xdg.c_str(), 0755);
  std::string cordon = BuildPath("server/cordon");
  std::printf("exec bench: %d round trips, cordon %s\n", n, cordon.c_str());

  auto base = SpawnBaseline(n);
  double base_p50 = Percentile(base, 0.5), base_p99 = Percentile(base, 0.99);
  Row("baseline posix_spawn+waitpid /bin/true p50", base_p50, "us");
  Row("baseline posix_spawn+waitpid /bin/true p99", base_p99, "us");

  Peer peer({cordon, "serve", "--workspace", ws, "--log-level", "error", "-c", "limits.max_output_bytes=0"}, xdg);
  int64_t id = 1;
  peer.Request(id, "initialize", {{"protocolVersion", "2025-06-18"}, {"capabilities", Json::object()},
                                  {"clientInfo", {{"name", "bench"}, {"version", "1"}}}});
  if (!peer.Wait(id++)) {
    std::printf("cordon serve did not answer initialize\n");
    return 1;
  }
  peer.Send({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
  Json params = {{"argv", {"/bin/true"}}};
  for (int i = 0; i < 30; ++i) {  // session up, caches warm
    peer.Request(id, "exec", params);
    auto r = peer.Wait(id++);
    if (!r || !r->contains("result")) {
      std::printf("exec failed: %s\n", r ? r->dump().c_str() : "no reply");
      return 1;
    }
  }
  if (only_stream) {
    for (int i = 0; i < 3; ++i) Row("process/output streaming, head -c 200M", Streaming(peer, 200ull << 20, &id), "MB/s");
    return 0;
  }
  std::vector<int64_t> lat;
  for (int i = 0; i < n; ++i) {
    int64_t t0 = NowNs();
    peer.Request(id, "exec", params);
    peer.Wait(id++);
    lat.push_back(NowNs() - t0);
  }
  double cordon_p50 = Percentile(lat, 0.5);
  Row("exec /bin/true round trip p50", cordon_p50, "us", base_p50, "(target <= 1.5x)");
  Row("exec /bin/true round trip p99", Percentile(lat, 0.99), "us", base_p99, "(target <= 3x)");
  double base_rate = 1e6 / base_p50;
  for (int k : {1, 4, 16}) {
    std::string what = "exec throughput, " + std::to_string(k) + " in flight";
    Row(what.c_str(), Throughput(peer, k, std::max(n, 1000), &id), "/s", 0,
        k == 4 ? "(target >= 1000/s)" : "");
  }
  std::printf("%-46s %10.1f %-6s\n", "  (baseline spawn rate, one at a time)", base_rate, "/s");
  Row("process/output streaming, head -c 200M", Streaming(peer, 200ull << 20, &id), "MB/s", 0, "(target >= 200 MB/s)");
  std::printf("%-46s %10llu KiB\n", "server VmRSS after the runs", (unsigned long long)RssKb(peer.pid()));
  CodexComparison(ws, base_p50, cordon_p50);
  return 0;
}
