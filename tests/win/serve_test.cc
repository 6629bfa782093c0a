// `cordon.exe serve` as a client sees it: the real binary started as a child with pipes for
// stdin/stdout, spoken to in NDJSON. Covers the Windows stdio transport (reader thread,
// EOF shutdown), exec of `cmd /c echo hi`, process/start with streamed process/output, and a
// job kill through process/terminate that takes a grandchild with it.
#include <gtest/gtest.h>
#include <windows.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "sandbox/base64.h"
#include "sandbox/win/scoped_handle.h"
#include "sandbox/win/win_util.h"
#include "tests/win/test_util.h"

namespace cordon {
namespace {

using Json = nlohmann::json;
constexpr auto kWait = std::chrono::seconds(60);  // generous: Wine under load starts slowly

// CORDON_EXE wins; else cordon.exe next to the tests; else the build tree's path (a Unix path
// under Wine, reachable through drive Z:).
std::wstring CordonExe() { return win::testing::FindBuiltExe(L"CORDON_EXE", L"cordon.exe", CORDON_EXE_BUILD_PATH); }

class ServeClient {
 public:
  // Starts `cordon.exe serve` in `workspace` with `config` as its config file.
  bool Start(const std::wstring& workspace, const std::wstring& config, const std::wstring& log) {
    SECURITY_ATTRIBUTES sa{sizeof(sa), nullptr, TRUE};
    HANDLE in_r = nullptr, in_w = nullptr, out_r = nullptr, out_w = nullptr;
    if (!::CreatePipe(&in_r, &in_w, &sa, 0) || !::CreatePipe(&out_r, &out_w, &sa, 0)) return false;
    win::ScopedHandle child_in(in_r), child_out(out_w);
    to_server_.reset(in_w);
    from_server_.reset(out_r);
    ::SetHandleInformation(to_server_.get(), HANDLE_FLAG_INHERIT, 0);
    ::SetHandleInformation(from_server_.get(), HANDLE_FLAG_INHERIT, 0);
    win::ScopedHandle err(::CreateFileW(log.c_str(), GENERIC_WRITE, FILE_SHARE_READ, &sa, CREATE_ALWAYS, 0, nullptr));
    std::wstring cmd = L"\"" + CordonExe() + L"\" serve --log-level debug --workspace \"" + workspace +
                       L"\" --config \"" + config + L"\"";
    STARTUPINFOW si{};
    si.cb = sizeof(si);
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = child_in.get();
    si.hStdOutput = child_out.get();
    si.hStdError = err.get();
    PROCESS_INFORMATION pi{};
    if (!::CreateProcessW(nullptr, cmd.data(), nullptr, nullptr, TRUE, CREATE_NO_WINDOW, nullptr, nullptr, &si, &pi))
      return false;
    process_.reset(pi.hProcess);
    ::CloseHandle(pi.hThread);
    reader_ = std::thread([this] { ReadLoop(); });
    return true;
  }

  ~ServeClient() {
    CloseInput();
    if (process_ && ::WaitForSingleObject(process_.get(), 20000) != WAIT_OBJECT_0)
      ::TerminateProcess(process_.get(), 1);
    if (reader_.joinable()) reader_.join();
  }

  void Send(const Json& message) {
    std::string line = message.dump() + "\n";
    DWORD n = 0;
    ::WriteFile(to_server_.get(), line.data(), static_cast<DWORD>(line.size()), &n, nullptr);
  }

  Json Request(const std::string& method, const Json& params) {
    int id = next_id_++;
    Send({{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}});
    return WaitFor([id](const Json& m) { return m.contains("id") && m["id"] == id; });
  }

  // The first message received (in arrival order) that matches; null on timeout or when the
  // server closed its stdout without sending one.
  Json WaitFor(const std::function<bool(const Json&)>& match) {
    std::unique_lock<std::mutex> lock(mu_);
    size_t i = 0;
    auto deadline = std::chrono::steady_clock::now() + kWait;
    for (;;) {
      for (; i < messages_.size(); ++i) {
        if (match(messages_[i])) return messages_[i];
      }
      if (closed_) return nullptr;
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && i == messages_.size()) return nullptr;
    }
  }

  std::vector<Json> Messages() {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }

  void CloseInput() { to_server_.reset(); }
  // The server's exit code once it has exited, or -1 after the wait.
  long WaitExit(DWORD ms) {
    if (::WaitForSingleObject(process_.get(), ms) != WAIT_OBJECT_0) return -1;
    DWORD code = 0;
    ::GetExitCodeProcess(process_.get(), &code);
    return static_cast<long>(code);
  }

 private:
  void ReadLoop() {
    std::string buf;
    char chunk[4096];
    DWORD n = 0;
    while (::ReadFile(from_server_.get(), chunk, sizeof(chunk), &n, nullptr) && n > 0) {
      buf.append(chunk, n);
      size_t nl;
      while ((nl = buf.find('\n')) != std::string::npos) {
        std::string line = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        Json m = Json::parse(line, nullptr, false);
        std::lock_guard<std::mutex> lock(mu_);
        messages_.push_back(m.is_discarded() ? Json{{"unparsable", line}} : m);
        cv_.notify_all();
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }

  win::ScopedHandle to_server_, from_server_, process_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Json> messages_;
  bool closed_ = false;
  int next_id_ = 1;
};

std::string ReadAll(const std::wstring& path) {
  std::ifstream in(win::WideToUtf8(path), std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = win::testing::MakeTempDir(L"serve");
    ws_ = dir_ + L"\\ws";
    ::CreateDirectoryW(ws_.c_str(), nullptr);
    config_ = dir_ + L"\\config.toml";
    log_ = dir_ + L"\\serve.log";
    // Wine enforces neither the token nor the ACLs, so the session needs allow_degraded there;
    // sandbox/info reports the gap.
    ASSERT_TRUE(win::testing::WriteTextFile(config_, "allow_degraded = true\n"));
    ASSERT_TRUE(client_.Start(ws_, config_, log_)) << "cannot start " << win::WideToUtf8(CordonExe());
    Json init = client_.Request("initialize", {{"protocolVersion", "2025-06-18"},
                                               {"capabilities", Json::object()},
                                               {"clientInfo", {{"name", "win-test"}, {"version", "1"}}}});
    ASSERT_TRUE(init.contains("result")) << init.dump() << "\n" << ServerLog();
    ASSERT_EQ(init["result"]["serverInfo"]["name"], "cordon");
    client_.Send({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
  }

  std::string ServerLog() { return "server log:\n" + ReadAll(log_); }

  // process/output data of one process, in seq order, until its process/closed; checks the order.
  std::string StreamedOutput(const std::string& id, Json* exited) {
    client_.WaitFor([&](const Json& m) {
      return m.value("method", "") == "process/closed" && m["params"]["processId"] == id;
    });
    std::string out;
    uint64_t last_seq = 0;
    bool seen_exit = false, seen_close = false;
    for (const Json& m : client_.Messages()) {
      if (!m.contains("method") || !m["params"].is_object() || m["params"].value("processId", "") != id) continue;
      uint64_t seq = m["params"].value("seq", 0ull);
      EXPECT_GT(seq, last_seq) << m.dump();
      last_seq = seq;
      std::string method = m["method"];
      if (method == "process/output") {
        EXPECT_FALSE(seen_exit) << "output after process/exited";
        out += Base64Decode(m["params"]["data"].get<std::string>()).value_or("<bad base64>");
      } else if (method == "process/exited") {
        seen_exit = true;
        *exited = m["params"]["result"];
      } else if (method == "process/closed") {
        seen_close = true;
      }
    }
    EXPECT_TRUE(seen_exit && seen_close) << ServerLog();
    return out;
  }

  std::wstring dir_, ws_, config_, log_;
  ServeClient client_;
};

TEST_F(ServeTest, ExecRunsCmdEcho) {
  Json r = client_.Request("exec", {{"argv", {"cmd", "/c", "echo hi"}}});
  ASSERT_TRUE(r.contains("result")) << r.dump() << "\n" << ServerLog();
  EXPECT_EQ(r["result"]["stdout"], "hi\r\n");
  EXPECT_EQ(r["result"]["result"]["status"], "exited");
  EXPECT_EQ(r["result"]["result"]["exitCode"], 0);

  // `command` goes through cmd /c on Windows.
  Json c = client_.Request("exec", {{"command", "echo from-shell"}});
  ASSERT_TRUE(c.contains("result")) << c.dump();
  EXPECT_EQ(c["result"]["stdout"], "from-shell\r\n");

  Json info = client_.Request("sandbox/info", Json::object());
  ASSERT_TRUE(info.contains("result")) << info.dump();
  EXPECT_EQ(info["result"]["platform"], "windows");
}

TEST_F(ServeTest, ProcessStartStreamsOutput) {
  Json r = client_.Request("process/start", {{"processId", "p1"}, {"argv", {"cmd", "/c", "echo streamed"}}});
  ASSERT_TRUE(r.contains("result")) << r.dump() << "\n" << ServerLog();
  EXPECT_EQ(r["result"]["processId"], "p1");
  EXPECT_GT(r["result"]["pid"].get<int>(), 0);
  Json exited;
  EXPECT_EQ(StreamedOutput("p1", &exited), "streamed\r\n");
  EXPECT_EQ(exited["status"], "exited") << exited.dump();
  EXPECT_EQ(exited["exitCode"], 0);
}

TEST_F(ServeTest, TerminateKillsTheTreeIncludingGrandchild) {
  std::wstring pidfile = dir_ + L"\\pids.txt";
  Json r = client_.Request("process/start", {{"processId", "tree"},
                                             {"argv", {win::testing::HelperPath(), "tree", win::WideToUtf8(pidfile)}}});
  ASSERT_TRUE(r.contains("result")) << r.dump() << "\n" << ServerLog();
  DWORD child = 0, grandchild = 0;
  for (int i = 0; i < 2400 && grandchild == 0; ++i) {  // up to 60 s
    std::ifstream in(win::WideToUtf8(pidfile));
    if (!(in >> child >> grandchild)) ::Sleep(25);
  }
  ASSERT_NE(grandchild, 0u) << ServerLog();
  EXPECT_EQ(static_cast<DWORD>(r["result"]["pid"].get<int>()), child);
  win::ScopedHandle g(::OpenProcess(SYNCHRONIZE, FALSE, grandchild));
  ASSERT_TRUE(g.valid());
  ASSERT_EQ(::WaitForSingleObject(g.get(), 0), static_cast<DWORD>(WAIT_TIMEOUT)) << "control: grandchild runs";

  Json t = client_.Request("process/terminate", {{"processId", "tree"}});
  ASSERT_TRUE(t.contains("result")) << t.dump();
  EXPECT_EQ(::WaitForSingleObject(g.get(), 30000), static_cast<DWORD>(WAIT_OBJECT_0)) << "grandchild survived";
  Json exited;
  StreamedOutput("tree", &exited);
  EXPECT_EQ(exited["status"], "killed") << exited.dump();
}

TEST_F(ServeTest, StdinEofEndsTheServerAndItsProcesses) {
  Json r = client_.Request("process/start", {{"processId", "long"},
                                             {"argv", {win::testing::HelperPath(), "sleep", "60000"}}});
  ASSERT_TRUE(r.contains("result")) << r.dump() << "\n" << ServerLog();
  win::ScopedHandle p(::OpenProcess(SYNCHRONIZE, FALSE, static_cast<DWORD>(r["result"]["pid"].get<int>())));
  ASSERT_TRUE(p.valid());
  ASSERT_EQ(::WaitForSingleObject(p.get(), 0), static_cast<DWORD>(WAIT_TIMEOUT));
  client_.CloseInput();
  EXPECT_EQ(client_.WaitExit(60000), 0) << ServerLog();
  EXPECT_EQ(::WaitForSingleObject(p.get(), 30000), static_cast<DWORD>(WAIT_OBJECT_0)) << "process outlived the server";
}

// `exit` while the client keeps stdin open: the reader thread is still blocked in ReadFile, so
// the server must end without waiting for input that never comes.
TEST_F(ServeTest, ExitWhileStdinStaysOpen) {
  Json r = client_.Request("shutdown", Json::object());
  ASSERT_TRUE(r.contains("result")) << r.dump();
  client_.Send({{"jsonrpc", "2.0"}, {"method", "exit"}});
  EXPECT_EQ(client_.WaitExit(60000), 0) << ServerLog();
}

// fs/* and patch/apply on the wire: same shapes as on Linux; a refusal is -32010 policy_denied.
TEST_F(ServeTest, FileMethodsOnTheWire) {
  Json w = client_.Request("fs/writeFile", {{"path", "src/a.txt"}, {"content", "one\n"}, {"createParents", true}});
  ASSERT_TRUE(w.contains("result")) << w.dump() << "\n" << ServerLog();
  Json r = client_.Request("fs/readFile", {{"path", "src/a.txt"}});
  ASSERT_TRUE(r.contains("result")) << r.dump();
  EXPECT_EQ(r["result"]["content"], "one\n");
  EXPECT_EQ(r["result"]["sha256"], w["result"]["sha256"]);
  Json p = client_.Request("patch/apply", {{"patch", "--- a/src/a.txt\n+++ b/src/a.txt\n@@ -1 +1 @@\n-one\n+two\n"}});
  ASSERT_TRUE(p.contains("result")) << p.dump();
  EXPECT_EQ(p["result"]["applied"], true);
  Json d = client_.Request("fs/readDirectory", {{"path", "src"}});
  ASSERT_TRUE(d.contains("result")) << d.dump();
  ASSERT_EQ(d["result"]["entries"].size(), 1u);
  EXPECT_EQ(d["result"]["entries"][0]["name"], "a.txt");
  Json m = client_.Request("fs/getMetadata", {{"path", "src/a.txt"}});
  ASSERT_TRUE(m.contains("result")) << m.dump();
  EXPECT_EQ(m["result"]["size"], 4);
  Json ads = client_.Request("fs/writeFile", {{"path", "src/a.txt:hidden"}, {"content", "x"}});
  ASSERT_TRUE(ads.contains("error")) << ads.dump();
  EXPECT_EQ(ads["error"]["code"], -32010);
  EXPECT_EQ(ads["error"]["data"]["kind"], "policy_denied");
  Json dev = client_.Request("fs/readFile", {{"path", "\\\\.\\" + win::WideToUtf8(ws_) + "\\src\\a.txt"}});
  ASSERT_TRUE(dev.contains("error")) << dev.dump();
  EXPECT_EQ(dev["error"]["data"]["kind"], "policy_denied");
  Json again = client_.Request("fs/readFile", {{"path", "src/a.txt"}});
  EXPECT_EQ(again["result"]["content"], "two\n") << again.dump();
}

}  // namespace
}  // namespace cordon
