// Golden transcripts: each file in cases/ is a script of bytes to pipe into the real
// `cordon serve` and the replies expected back (see cases/README.md for the directives).
// Replies within one block are compared as a multiset, since requests may finish out of
// order; "<any>" in an expected reply matches any value (pids, timings, versions). After the
// last directive the server must exit and must not have sent anything unexpected.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "server_process.h"

namespace cordon::golden {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Generous limits for a loaded 2-core machine. The one bound that carries meaning is
// kKillLimit: the commands in the cases sleep 30 s, so only a kill makes them vanish sooner.
constexpr auto kReplyLimit = 60s;
constexpr auto kExitLimit = 60s;
constexpr auto kKillLimit = 20s;

bool Matches(const Json& want, const Json& got) {
  if (want.is_string() && want.get<std::string>() == "<any>") return true;
  if (want.is_object()) {
    if (!got.is_object() || got.size() != want.size()) return false;
    for (auto it = want.begin(); it != want.end(); ++it)
      if (!got.contains(it.key()) || !Matches(it.value(), got[it.key()])) return false;
    return true;
  }
  if (want.is_array()) {
    if (!got.is_array() || got.size() != want.size()) return false;
    // Batch replies may come in any order too.
    std::vector<bool> used(got.size());
    for (const auto& w : want) {
      bool found = false;
      for (size_t i = 0; i < got.size() && !found; ++i)
        if (!used[i] && Matches(w, got[i])) used[i] = found = true;
      if (!found) return false;
    }
    return true;
  }
  return want == got;
}

std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    char c = s[++i];
    if (c == 'n') out += '\n';
    else if (c == 'r') out += '\r';
    else if (c == 't') out += '\t';
    else if (c == 'x' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else out += c;
  }
  return out;
}

struct Directive {
  std::string verb;
  std::string arg;
  int line = 0;
};

struct Case {
  protocol::Framing framing = protocol::Framing::kNdjson;
  std::vector<std::string> args;
  std::vector<Directive> steps;
};

Case LoadCase(const fs::path& path) {
  Case c;
  std::ifstream in(path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    size_t colon = line.find(':');
    std::string verb = line.substr(0, colon);
    std::string arg = colon == std::string::npos ? "" : line.substr(colon + 1);
    if (!arg.empty() && arg[0] == ' ') arg.erase(0, 1);
    if (verb == "framing") {
      c.framing = arg == "content-length" ? protocol::Framing::kContentLength : protocol::Framing::kNdjson;
    } else if (verb == "args") {
      std::istringstream words(arg);
      for (std::string w; words >> w;) c.args.push_back(w);
    } else {
      c.steps.push_back({verb, arg, n});
    }
  }
  return c;
}

std::string BigRequest(size_t size) {
  std::string head = R"({"jsonrpc":"2.0","id":"big","method":"ping","params":{"pad":")";
  std::string tail = "\"}}";
  return head + std::string(size > head.size() + tail.size() ? size - head.size() - tail.size() : 0, 'a') + tail;
}

std::string NestedRequest(int depth) {
  return R"({"jsonrpc":"2.0","id":"deep","method":"ping","params":{"a":)" + std::string(depth, '[') +
         std::string(depth, ']') + "}}";
}

class GoldenTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/cordon-golden-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    tmp_ = dir;
    fs::create_directories(tmp_ / "ws");
    fs::create_directories(tmp_ / "xdg");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }
  std::string ServerLog() {
    std::ifstream in(tmp_ / "stderr.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  fs::path tmp_;
};

TEST_P(GoldenTest, Transcript) {
  fs::path file = fs::path(CORDON_GOLDEN_CASES) / (GetParam() + ".txt");
  Case c = LoadCase(file);
  ASSERT_FALSE(c.steps.empty()) << file;
  ServerProcess server(CORDON_BINARY, (tmp_ / "ws").string(), (tmp_ / "xdg").string(), c.args,
                       (tmp_ / "stderr.log").string(), c.framing);
  ASSERT_TRUE(server.started());

  std::vector<Json> expected;  // every reply expected so far, in blocks
  size_t compared = 0;         // replies already checked
  std::vector<std::pair<pid_t, std::string>> watched;
  bool exited = false;

  auto sync = [&](int line) {
    auto got = server.WaitForMessages(expected.size(), kReplyLimit);
    ASSERT_GE(got.size(), expected.size()) << "line " << line << ": waiting for replies; server log:\n" << ServerLog();
    std::vector<Json> block(got.begin() + static_cast<long>(compared), got.begin() + static_cast<long>(expected.size()));
    std::vector<bool> used(block.size());
    for (size_t e = compared; e < expected.size(); ++e) {
      bool found = false;
      for (size_t i = 0; i < block.size() && !found; ++i)
        if (!used[i] && Matches(expected[e], block[i])) used[i] = found = true;
      std::string all;
      for (const auto& b : block) all += "  " + b.dump() + "\n";
      EXPECT_TRUE(found) << "line " << line << ": no reply matches " << expected[e].dump() << "\ngot:\n" << all;
    }
    compared = expected.size();
  };

  for (const auto& step : c.steps) {
    SCOPED_TRACE(file.filename().string() + ":" + std::to_string(step.line) + " " + step.verb);
    if (step.verb == "send") {
      ASSERT_TRUE(server.Send(step.arg));
    } else if (step.verb == "send-raw") {
      ASSERT_TRUE(server.Write(Unescape(step.arg)));
    } else if (step.verb == "send-big") {
      ASSERT_TRUE(server.Send(BigRequest(std::stoul(step.arg))));
    } else if (step.verb == "send-nested") {
      ASSERT_TRUE(server.Send(NestedRequest(std::stoi(step.arg))));
    } else if (step.verb == "recv") {
      Json want = Json::parse(step.arg, nullptr, false);
      ASSERT_FALSE(want.is_discarded()) << "bad JSON in the case file";
      expected.push_back(std::move(want));
    } else if (step.verb == "sync") {
      sync(step.line);
    } else if (step.verb == "wait-proc") {
      std::vector<pid_t> pids;
      auto deadline = std::chrono::steady_clock::now() + kReplyLimit;
      while ((pids = FindDescendants(server.pid(), step.arg)).empty() && std::chrono::steady_clock::now() < deadline)
        ::usleep(50 * 1000);
      ASSERT_FALSE(pids.empty()) << "no process '" << step.arg << "' under the server; log:\n" << ServerLog();
      for (pid_t p : pids) watched.emplace_back(p, step.arg);
    } else if (step.verb == "procs-gone") {
      ASSERT_FALSE(watched.empty());
      auto deadline = std::chrono::steady_clock::now() + kKillLimit;
      auto all_gone = [&] {
        return std::all_of(watched.begin(), watched.end(), [](auto& w) { return ProcessGone(w.first, w.second); });
      };
      while (!all_gone() && std::chrono::steady_clock::now() < deadline) ::usleep(50 * 1000);
      EXPECT_TRUE(all_gone()) << "a process the server started is still running";
    } else if (step.verb == "close") {
      server.CloseStdin();
    } else if (step.verb == "signal") {
      ASSERT_EQ(step.arg, "TERM");
      server.Signal(SIGTERM);
    } else if (step.verb == "exit") {
      sync(step.line);
      auto st = server.WaitExit(kExitLimit);
      ASSERT_TRUE(st.has_value()) << "the server did not exit";
      ASSERT_TRUE(WIFEXITED(*st)) << "the server died: status " << *st << "\n" << ServerLog();
      if (step.arg != "<any>") {
        EXPECT_EQ(WEXITSTATUS(*st), std::stoi(step.arg));
      }
      exited = true;
    } else {
      FAIL() << "unknown directive " << step.verb;
    }
  }
  sync(0);
  if (!exited) {
    server.CloseStdin();
    auto st = server.WaitExit(kExitLimit);
    ASSERT_TRUE(st.has_value()) << "the server did not exit on EOF";
    EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << "status " << *st << "\n" << ServerLog();
  }
  auto all = server.DrainAfterExit();
  for (size_t i = expected.size(); i < all.size(); ++i) ADD_FAILURE() << "unexpected message: " << all[i].dump();
}

std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(CORDON_GOLDEN_CASES))
    if (e.path().extension() == ".txt") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenTest, ::testing::ValuesIn(CaseNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace cordon::golden
