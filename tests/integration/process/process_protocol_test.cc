// process/* and exec through the real server: ordering and seq rules, ids, concurrency, stdin,
// PTY sessions, non-UTF-8 output, output caps and backpressure (server memory stays bounded).
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <thread>

#include "tests/integration/process/proc_fixture.h"

namespace cordon::proc_test {
namespace {

TEST_F(ProcTest, OutputThenExitedThenClosedWithIncreasingSeq) {
  std::string id = StartProcess({{"command", "echo out; echo err >&2; exit 3"}});
  ASSERT_TRUE(client_->WaitClosed(id)) << client_->Log();
  ExpectWellOrdered(id);
  Json result = ExitedResult(id);
  EXPECT_EQ(result["status"], "exited");
  EXPECT_EQ(result["exitCode"], 3);
  std::string out, err;
  for (const auto& m : client_->EventsOf(id)) {
    if (m["method"] != "process/output") continue;
    std::string data = Unbase64(m["params"]["data"]);
    (m["params"]["stream"] == "stderr" ? err : out) += data;
  }
  EXPECT_EQ(out, "out\n");
  EXPECT_EQ(err, "err\n");
}

TEST_F(ProcTest, OrderingUnderLoad) {
  std::vector<std::string> ids;
  std::vector<int64_t> reqs;
  for (int i = 0; i < 16; ++i)
    reqs.push_back(client_->Send("process/start", {{"command", "i=0; while [ $i -lt 3000 ]; do echo line$i; i=$((i+1)); done"}}));
  for (auto r : reqs) {
    auto reply = client_->Wait(r);
    ASSERT_TRUE(reply && reply->contains("result")) << (reply ? reply->dump() : "no reply");
    ids.push_back((*reply)["result"]["processId"]);
  }
  for (const auto& id : ids) ASSERT_TRUE(client_->WaitClosed(id)) << id;
  for (const auto& id : ids) {
    ExpectWellOrdered(id);
    std::string out = client_->OutputOf(id);
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3000) << id;
    EXPECT_NE(out.find("line2999\n"), std::string::npos);
  }
}

TEST_F(ProcTest, TwoHundredConcurrentProcesses) {
  // Each waits for a line on stdin, so all 200 are alive at once before any is released.
  constexpr int kCount = 200;
  std::vector<int64_t> reqs;
  for (int i = 0; i < kCount; ++i)
    reqs.push_back(client_->Send("process/start", {{"argv", {"/bin/sh", "-c", "read x; echo $x-$0", std::to_string(i)}},
                                                   {"stdin", "pipe"}}));
  std::vector<std::string> ids;
  for (auto r : reqs) {
    auto reply = client_->Wait(r);
    ASSERT_TRUE(reply && reply->contains("result")) << (reply ? reply->dump() : "no reply") << client_->Log();
    ids.push_back((*reply)["result"]["processId"]);
  }
  Json list = client_->Call("process/list", Json::object());
  int running = 0;
  for (const auto& p : list["result"]["processes"]) running += p["state"] == "running";
  EXPECT_EQ(running, kCount);
  std::vector<int64_t> writes;
  for (const auto& id : ids) writes.push_back(client_->Send("process/write", {{"processId", id}, {"data", Base64("go\n")}, {"eof", true}}));
  for (auto w : writes) {
    auto reply = client_->Wait(w);
    ASSERT_TRUE(reply && reply->contains("result")) << (reply ? reply->dump() : "no reply");
  }
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(client_->WaitClosed(ids[i])) << ids[i];
    ExpectWellOrdered(ids[i]);
    EXPECT_EQ(client_->OutputOf(ids[i]), "go-" + std::to_string(i) + "\n");
    EXPECT_EQ(ExitedResult(ids[i])["exitCode"], 0);
  }
}

TEST_F(ProcTest, ProcessIdsAreNeverReused) {
  std::string a = StartProcess({{"processId", "mine"}, {"argv", {"true"}}});
  ASSERT_EQ(a, "mine");
  ASSERT_TRUE(client_->WaitClosed(a));
  Json again = client_->Call("process/start", {{"processId", "mine"}, {"argv", {"true"}}});
  ASSERT_TRUE(again.contains("error")) << again.dump();
  EXPECT_EQ(again["error"]["code"], -32012);
  // Server-chosen ids never collide with earlier ones, the client's included.
  std::set<std::string> seen = {a};
  for (int i = 0; i < 5; ++i) {
    std::string id = StartProcess({{"argv", {"true"}}});
    EXPECT_TRUE(seen.insert(id).second) << id;
    std::string next = "p" + std::to_string(i + 10);
    StartProcess({{"processId", next}, {"argv", {"true"}}});
    seen.insert(next);
  }
  for (const auto& id : seen) ASSERT_TRUE(client_->WaitClosed(id));
}

TEST_F(ProcTest, StdinPipeEofAndNull) {
  std::string cat = StartProcess({{"argv", {"cat"}}, {"stdin", "pipe"}});
  Json w = client_->Call("process/write", {{"processId", cat}, {"data", Base64("abc\n")}});
  ASSERT_TRUE(w.contains("result")) << w.dump();
  ASSERT_TRUE(client_->WaitNotification([&](const Json& m) {
    return m.value("method", "") == "process/output" && m["params"]["processId"] == cat;
  }));
  w = client_->Call("process/write", {{"processId", cat}, {"data", Base64("def")}, {"eof", true}});
  ASSERT_TRUE(w.contains("result")) << w.dump();
  ASSERT_TRUE(client_->WaitClosed(cat));
  EXPECT_EQ(client_->OutputOf(cat), "abc\ndef");
  EXPECT_EQ(ExitedResult(cat)["exitCode"], 0);

  std::string null_in = StartProcess({{"command", "wc -c"}, {"stdin", "null"}});
  ASSERT_TRUE(client_->WaitClosed(null_in));
  EXPECT_EQ(client_->OutputOf(null_in), "0\n");
  Json refused = client_->Call("process/write", {{"processId", null_in}, {"data", Base64("x")}});
  EXPECT_TRUE(refused.contains("error")) << refused.dump();
}

TEST_F(ProcTest, PipelinedWritesArriveInOrder) {
  std::string cat = StartProcess({{"argv", {"cat"}}, {"stdin", "pipe"}});
  std::string expected;
  std::vector<int64_t> reqs;
  for (int i = 0; i < 200; ++i) {
    std::string piece = std::to_string(i) + ",";
    expected += piece;
    reqs.push_back(client_->Send("process/write", {{"processId", cat}, {"data", Base64(piece)}, {"eof", i == 199}}));
  }
  for (auto r : reqs) {
    auto reply = client_->Wait(r);
    ASSERT_TRUE(reply && reply->contains("result")) << (reply ? reply->dump() : "no reply");
  }
  ASSERT_TRUE(client_->WaitClosed(cat));
  EXPECT_EQ(client_->OutputOf(cat), expected);
}

TEST_F(ProcTest, ProcessReadLongPollsAndReportsTheResult) {
  std::string id = StartProcess({{"command", "read x; echo got-$x"}, {"stdin", "pipe"}});
  int64_t poll = client_->Send("process/read", {{"processId", id}, {"afterSeq", 0}, {"waitMs", 30000}});
  ASSERT_TRUE(client_->Call("process/write", {{"processId", id}, {"data", Base64("it\n")}}).contains("result"));
  auto r = client_->Wait(poll);
  ASSERT_TRUE(r && r->contains("result")) << (r ? r->dump() : "");
  ASSERT_TRUE(client_->WaitClosed(id));
  Json all = client_->Call("process/read", {{"processId", id}, {"afterSeq", 0}});
  ASSERT_TRUE(all.contains("result")) << all.dump();
  std::string out;
  for (const auto& c : all["result"]["chunks"]) out += Unbase64(c["data"]);
  EXPECT_EQ(out, "got-it\n");
  EXPECT_TRUE(all["result"]["exited"]);
  EXPECT_TRUE(all["result"]["closed"]);
  EXPECT_EQ(all["result"]["result"]["exitCode"], 0);
  EXPECT_EQ(all["result"]["dropped"], false) << "everything was kept";
}

// Output beyond the 1 MiB kept per process is gone for a late reader, and process/read says
// so (and from where on it has everything) instead of returning the tail as if it were all.
TEST_F(ProcTest, ProcessReadReportsOutputDroppedFromTheTail) {
  std::string id = StartProcess({{"command", "i=0; while [ $i -lt 48 ]; do head -c 65536 /dev/zero | tr '\\0' x; i=$((i+1)); done; echo end"}});
  ASSERT_TRUE(client_->WaitClosed(id));
  Json all = client_->Call("process/read", {{"processId", id}, {"afterSeq", 0}, {"maxBytes", 4u << 20}});
  ASSERT_TRUE(all.contains("result")) << all.dump().substr(0, 500);
  const Json& r = all["result"];
  ASSERT_EQ(r["dropped"], true);
  ASSERT_TRUE(r["droppedThroughSeq"].is_number_unsigned());
  uint64_t through = r["droppedThroughSeq"];
  ASSERT_FALSE(r["chunks"].empty());
  EXPECT_EQ(r["chunks"][0]["seq"].get<uint64_t>(), through + 1) << "the kept tail starts right after the drop";
  std::string out;
  for (const auto& c : r["chunks"]) out += Unbase64(c["data"]);
  EXPECT_LE(out.size(), (1u << 20) + (64u << 10));
  EXPECT_EQ(out.substr(out.size() - 4), "end\n");
  // A reader that is already past the drop has missed nothing.
  Json later = client_->Call("process/read", {{"processId", id}, {"afterSeq", through}});
  EXPECT_EQ(later["result"]["dropped"], false) << later.dump().substr(0, 300);
}

TEST_F(ProcTest, NonUtf8OutputIsDeliveredExactly) {
  const std::string bytes("\xff\xfe" "abc\x80\x00z", 8);
  std::string id = StartProcess({{"command", "printf '\\377\\376abc\\200\\000z'"}});
  ASSERT_TRUE(client_->WaitClosed(id));
  EXPECT_EQ(client_->OutputOf(id), bytes);

  Json replaced = client_->Call("exec", {{"command", "printf 'a\\377b'"}});
  ASSERT_TRUE(replaced.contains("result")) << replaced.dump();
  EXPECT_EQ(replaced["result"]["stdout"], "a\xEF\xBF\xBD" "b");
  Json binary = client_->Call("exec", {{"command", "printf 'a\\000\\377'"}});
  ASSERT_TRUE(binary.contains("result")) << binary.dump();
  ASSERT_TRUE(binary["result"].contains("stdoutBase64")) << binary.dump();
  EXPECT_EQ(Unbase64(binary["result"]["stdoutBase64"]), std::string("a\0\xff", 3));
}

std::string ProcField(pid_t pid, const char* file) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text;
}

// Commands are handed to leaders the broker and the worker prepare ahead of time. When those
// leaders die (killed from outside, the OOM killer), the next command must still run: through
// the worker, which prepares a fresh one. Control: the exec before the kill.
TEST_F(ProcTest, ExecRunsAfterThePreparedLeadersDie) {
  Json first = client_->Call("exec", {{"argv", {"echo", "before"}}});
  ASSERT_EQ(first["result"]["stdout"], "before\n") << first.dump() << client_->Log();
  // The prepared leaders are the worker's children that name themselves cordon-leader.
  std::vector<pid_t> leaders;
  for (const auto& d : Descendants(client_->pid()))
    if (ProcField(d.pid, "comm") == "cordon-leader\n") leaders.push_back(d.pid);
  ASSERT_FALSE(leaders.empty()) << "no prepared leader found below the server";
  std::vector<ProcEntry> killed;
  for (const auto& d : Descendants(client_->pid()))
    if (std::find(leaders.begin(), leaders.end(), d.pid) != leaders.end()) killed.push_back(d);
  for (pid_t pid : leaders) ::kill(pid, SIGKILL);
  ASSERT_TRUE(AwaitGone(killed).empty());
  for (const char* word : {"after", "again"}) {
    Json r = client_->Call("exec", {{"argv", {"echo", word}}});
    ASSERT_TRUE(r.contains("result")) << r.dump() << client_->Log();
    EXPECT_EQ(r["result"]["stdout"], std::string(word) + "\n") << r.dump();
    EXPECT_EQ(r["result"]["result"]["exitCode"], 0);
  }
}

TEST_F(ProcTest, ExecEchoHelloAndExitStatus) {
  Json r = client_->Call("exec", {{"argv", {"echo", "hello"}}});
  ASSERT_TRUE(r.contains("result")) << r.dump() << client_->Log();
  EXPECT_EQ(r["result"]["stdout"], "hello\n");
  EXPECT_EQ(r["result"]["result"]["status"], "exited");
  EXPECT_EQ(r["result"]["result"]["exitCode"], 0);
  Json fail = client_->Call("exec", {{"command", "echo no >&2; exit 7"}, {"stdin", "ignored"}});
  ASSERT_TRUE(fail.contains("result")) << fail.dump();
  EXPECT_EQ(fail["result"]["stderr"], "no\n");
  EXPECT_EQ(fail["result"]["result"]["exitCode"], 7);
  Json in = client_->Call("exec", {{"argv", {"cat"}}, {"stdin", "piped text"}});
  EXPECT_EQ(in["result"]["stdout"], "piped text");
  Json missing = client_->Call("exec", {{"argv", {"/no/such/program"}}});
  ASSERT_TRUE(missing.contains("result")) << missing.dump();
  EXPECT_EQ(missing["result"]["result"]["status"], "error");
}

TEST_F(ProcTest, ExecSendsProgressWithAToken) {
  int64_t req = client_->Send("exec", {{"command", "echo first; echo second"}, {"_meta", {{"progressToken", 42}}}});
  auto reply = client_->Wait(req);
  ASSERT_TRUE(reply && reply->contains("result")) << (reply ? reply->dump() : "no reply");
  std::string streamed;
  uint64_t last = 0;
  for (const auto& m : client_->notifications()) {
    if (m.value("method", "") != "notifications/progress") continue;
    EXPECT_EQ(m["params"]["progressToken"], 42);
    EXPECT_GT(m["params"]["progress"].get<uint64_t>(), last);
    last = m["params"]["progress"];
    streamed += m["params"].value("message", "");
  }
  EXPECT_EQ(streamed, "first\nsecond\n");
  EXPECT_EQ(last, 13u);
}

TEST_F(ProcTest, OutputCapKillsAndKeepsWhatWasCaptured) {
  std::string id = StartProcess({{"argv", {"yes"}}, {"maxOutputBytes", 1 << 20}});
  ASSERT_TRUE(client_->WaitClosed(id));
  ExpectWellOrdered(id);
  Json result = ExitedResult(id);
  EXPECT_EQ(result["status"], "output_limit") << result.dump();
  EXPECT_TRUE(result["outputTruncated"]);
  std::string out = client_->OutputOf(id);
  EXPECT_EQ(out.size(), 1u << 20);
  EXPECT_EQ(out.substr(0, 4), "y\ny\n");

  Json e = client_->Call("exec", {{"argv", {"yes"}}, {"maxOutputBytes", 4096}});
  ASSERT_TRUE(e.contains("result")) << e.dump();
  EXPECT_EQ(e["result"]["result"]["status"], "output_limit");
  EXPECT_EQ(e["result"]["stdout"].get<std::string>().size(), 4096u);
}

TEST_F(ProcTest, TimeoutIsReportedAsTimeout) {
  std::string id = StartProcess({{"argv", {"sleep", "1000"}}, {"timeoutMs", 200}});
  ASSERT_TRUE(client_->WaitClosed(id));
  EXPECT_EQ(ExitedResult(id)["status"], "timeout") << ExitedResult(id).dump();
}

TEST_F(ProcTest, MemoryLimitIsReportedAsOom) {
  Restart({"-c", "limits.memory_mb=64"});
  Json info = client_->Call("sandbox/info", Json::object());
  std::string resources = info["result"]["enforcement"]["resources"].value("state", "");
  if (resources != "enforced")
    GTEST_SKIP() << "no cgroup memory limit on this host: " << info["result"]["enforcement"]["resources"].dump();
  std::string id = StartProcess({{"argv", {"python3", "-c", "b = bytearray(512 << 20); print(len(b))"}}});
  ASSERT_TRUE(client_->WaitClosed(id));
  EXPECT_EQ(ExitedResult(id)["status"], "oom") << ExitedResult(id).dump();
}

// A flood the client does not read: the command blocks on its full pipe and the server's
// memory stays bounded; then everything is read at the client's pace.
TEST_F(ProcTest, UnreadFloodBlocksTheCommandNotTheServer) {
  Restart({"-c", "limits.max_output_bytes=0"});
  ASSERT_TRUE(client_->Call("exec", {{"argv", {"true"}}}).contains("result"));  // worker up
  uint64_t rss_before = RssKb(client_->pid());
  std::string id = StartProcess({{"processId", "flood"}, {"command", "head -c 64000000 /dev/zero"}});
  // Do not read: wait until the command sleeps in a pipe write, i.e. nothing drains it.
  bool blocked = false;
  for (int i = 0; i < 2000 && !blocked; ++i) {
    for (const auto& e : Descendants(client_->pid())) {
      std::ifstream comm("/proc/" + std::to_string(e.pid) + "/comm"), wchan("/proc/" + std::to_string(e.pid) + "/wchan");
      std::string c, w;
      std::getline(comm, c);
      std::getline(wchan, w);
      if (c == "head" && w.find("pipe_write") != std::string::npos) blocked = true;
    }
    if (!blocked) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // re-scan /proc
  }
  EXPECT_TRUE(blocked) << "the flooding command never blocked on its pipe";
  uint64_t rss_blocked = RssKb(client_->pid());
  EXPECT_LT(rss_blocked, rss_before + 48 * 1024) << "server grew from " << rss_before << " to " << rss_blocked << " KiB";
  uint64_t total = 0;
  ASSERT_TRUE(client_->WaitNotification([&](const Json& m) {
    if (m.value("method", "") != "process/output") return m.value("method", "") == "process/closed";
    total += Unbase64(m["params"]["data"]).size();
    return false;
  }, 300000));
  EXPECT_EQ(total, 64000000u);
#if !defined(__SANITIZE_ADDRESS__)
  // (Under ASan, freed blocks sit in its quarantine - up to 256 MiB - so churn shows as RSS.)
  EXPECT_LT(RssKb(client_->pid()), rss_before + 48 * 1024);
#endif
}

TEST_F(ProcTest, PtySessionPromptInputResizeAndInterrupt) {
  std::string id = StartProcess({{"argv", {"/bin/sh", "-i"}}, {"tty", true}, {"cols", 80}, {"rows", 24},
                                 {"env", {{"PS1", "READY> "}}}});
  auto output_has = [&](const std::string& needle) {
    return client_->WaitNotification([&](const Json&) { return client_->OutputOf(id).find(needle) != std::string::npos; });
  };
  ASSERT_TRUE(output_has("READY> ")) << client_->OutputOf(id);
  for (const auto& m : client_->EventsOf(id))
    if (m["method"] == "process/output") {
      EXPECT_EQ(m["params"]["stream"], "pty");
    }
  ASSERT_TRUE(client_->Call("process/write", {{"processId", id}, {"data", Base64("echo $((6*7))x; tty\n")}}).contains("result"));
  ASSERT_TRUE(output_has("42x")) << client_->OutputOf(id);
  ASSERT_TRUE(output_has("/dev/pts/")) << client_->OutputOf(id);
  Json rs = client_->Call("process/resize", {{"processId", id}, {"cols", 132}, {"rows", 43}});
  ASSERT_TRUE(rs.contains("result")) << rs.dump();
  ASSERT_TRUE(client_->Call("process/write", {{"processId", id}, {"data", Base64("stty size\n")}}).contains("result"));
  ASSERT_TRUE(output_has("43 132")) << client_->OutputOf(id);
  // Ctrl+C reaches the foreground command, not just the shell: the shell survives and prompts.
  ASSERT_TRUE(client_->Call("process/write", {{"processId", id}, {"data", Base64("sleep 1000\n")}}).contains("result"));
  std::vector<ProcEntry> sleeps;
  for (int i = 0; i < 2000 && sleeps.empty(); ++i) {
    for (const auto& e : Descendants(client_->pid())) {
      std::ifstream comm("/proc/" + std::to_string(e.pid) + "/comm");
      std::string c;
      std::getline(comm, c);
      if (c == "sleep") sleeps.push_back(e);
    }
    if (sleeps.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // re-scan /proc
  }
  ASSERT_FALSE(sleeps.empty());
  ASSERT_TRUE(client_->Call("process/signal", {{"processId", id}, {"signal", "INT"}}).contains("result"));
  EXPECT_TRUE(AwaitGone(sleeps).empty());
  ASSERT_TRUE(client_->Call("process/write", {{"processId", id}, {"data", Base64("echo after-$?\n")}}).contains("result"));
  ASSERT_TRUE(output_has("after-130")) << ::testing::PrintToString(client_->OutputOf(id));
  ASSERT_TRUE(client_->Call("process/write", {{"processId", id}, {"data", Base64("exit 5\n")}}).contains("result"));
  ASSERT_TRUE(client_->WaitClosed(id));
  ExpectWellOrdered(id);
  EXPECT_EQ(ExitedResult(id)["exitCode"], 5);
}

TEST_F(ProcTest, PtyStdinEofEndsCat) {
  std::string id = StartProcess({{"argv", {"cat"}}, {"tty", true}});
  ASSERT_TRUE(client_->Call("process/write", {{"processId", id}, {"data", Base64("hi\n")}, {"eof", true}}).contains("result"));
  ASSERT_TRUE(client_->WaitClosed(id));
  EXPECT_NE(client_->OutputOf(id).find("hi"), std::string::npos);
  EXPECT_EQ(ExitedResult(id)["exitCode"], 0);
}

}  // namespace
}  // namespace cordon::proc_test
