// cordon-runner.exe, elevated mode's per-command runner, driven over its real pipes. The runner
// is started as the current user (CreateProcessW) because Wine cannot log a sandbox user on;
// everything after the logon - framing, spawn, streamed output, exit codes, stdin, terminate of
// a tree with a grandchild, and "pipe closed = job killed" - is the code elevated mode runs.
#include <gtest/gtest.h>
#include <windows.h>

#include <fstream>

#include "sandbox/win/elevated_process.h"
#include "sandbox/win/pipes.h"
#include "sandbox/win/runner_client.h"
#include "sandbox/win/runner_protocol.h"
#include "tests/win/test_util.h"

namespace cordon::win {
namespace {

constexpr DWORD kWaitMs = 60000;  // generous: Wine under load starts processes slowly

// CORDON_RUNNER wins; else next to the tests; else the build tree's path (through drive Z:).
std::wstring RunnerExe() {
  return testing::FindBuiltExe(L"CORDON_RUNNER", L"cordon-runner.exe", CORDON_RUNNER_BUILD_PATH);
}

Job MakeJob() {
  auto job = Job::Create(JobLimits{});
  EXPECT_TRUE(job.ok()) << job.error().detail;
  return std::move(job).value();
}

RunnerSpawn Spawn(std::vector<std::string> argv) {
  RunnerSpawn s;
  s.argv = std::move(argv);
  s.env = testing::CurrentEnv();
  wchar_t cwd[MAX_PATH];
  ::GetTempPathW(MAX_PATH, cwd);
  s.cwd = WideToUtf8(cwd);
  return s;
}

bool ReadPids(const std::wstring& file, DWORD* a, DWORD* b) {
  for (int i = 0; i < 2400; ++i) {  // up to 60 s
    std::ifstream in(WideToUtf8(file));
    if (in >> *a >> *b) return true;
    ::Sleep(25);
  }
  return false;
}

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    launcher_ = MakeCurrentUserLauncher();
    ASSERT_NE(::GetFileAttributesW(RunnerExe().c_str()), INVALID_FILE_ATTRIBUTES) << WideToUtf8(RunnerExe());
  }
  Result<std::unique_ptr<RunnerProcess>> Start(const RunnerSpawn& spawn) {
    auto conn = StartRunner(*launcher_, RunnerExe(), job_, kWaitMs);
    if (!conn) return conn.error();
    return RunnerProcess::Start(std::move(conn).value(), spawn);
  }

  Job job_ = MakeJob();
  std::unique_ptr<RunnerLauncher> launcher_;
};

TEST(RunnerProtocol, SpawnRoundTripAndVersionCheck) {
  RunnerSpawn s;
  s.argv = {"cmd", "/c", "echo hi"};
  s.cwd = "C:\\ws";
  s.env = {"A=1"};
  s.tty = true;
  s.capability_sid = "S-1-5-21-1-2-3-4";
  s.memory_bytes = 1u << 30;
  auto back = RunnerSpawnFromJson(ToJson(s));
  ASSERT_TRUE(back.ok()) << back.error().detail;
  EXPECT_EQ(back->argv, s.argv);
  EXPECT_EQ(back->cwd, s.cwd);
  EXPECT_TRUE(back->tty);
  EXPECT_EQ(back->capability_sid, s.capability_sid);
  EXPECT_EQ(back->memory_bytes, s.memory_bytes);
  auto j = ToJson(s);
  j["v"] = 99;
  auto refused = RunnerSpawnFromJson(j);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().detail.find("protocol version 99"), std::string::npos);
  j["v"] = kRunnerProtocolVersion;
  j["argv"] = "not a list";
  EXPECT_FALSE(RunnerSpawnFromJson(j).ok());
}

TEST(RunnerProtocol, FramesCarryBytesAndRejectGarbage) {
  auto pipe = CreateCommandPipe(true);  // parent reads, child writes
  ASSERT_TRUE(pipe.ok());
  std::string bytes("\x00\xff\x01 binary\r\n", 12);
  ASSERT_TRUE(WriteFrame(pipe->child.get(), OutputFrame(OutputChunk{OutputStream::kStderr, bytes, false})).ok());
  auto frame = ReadFrame(pipe->parent.get());
  ASSERT_TRUE(frame.ok() && frame->has_value());
  auto chunk = OutputFromFrame(**frame);
  ASSERT_TRUE(chunk.ok());
  EXPECT_EQ(chunk->data, bytes);
  EXPECT_EQ(chunk->stream, OutputStream::kStderr);
  // An oversized length is refused before anything is allocated for it.
  std::string huge = "\xff\xff\xff\x7f";
  ASSERT_TRUE(WriteAll(pipe->child.get(), huge).ok());
  EXPECT_FALSE(ReadFrame(pipe->parent.get()).ok());

  auto pipe2 = CreateCommandPipe(true);
  ASSERT_TRUE(pipe2.ok());
  std::string not_json = std::string("\x05\x00\x00\x00", 4) + "{oops";
  ASSERT_TRUE(WriteAll(pipe2->child.get(), not_json).ok());
  EXPECT_FALSE(ReadFrame(pipe2->parent.get()).ok());
  pipe2->child.reset();  // clean EOF at a frame boundary: no frame, no error
  auto end = ReadFrame(pipe2->parent.get());
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
}

TEST_F(RunnerTest, CmdEchoStreamsOutputAndExitCode) {
  auto p = Start(Spawn({"cmd", "/c", "echo hi"}));
  ASSERT_TRUE(p.ok()) << p.error().detail;
  EXPECT_GT((*p)->pid(), 0);
  EXPECT_NE(static_cast<DWORD>((*p)->pid()), (*p)->runner_pid()) << "pid is the command's, not the runner's";
  auto [out, err] = testing::DrainOutput(**p);
  EXPECT_NE(out.find("hi"), std::string::npos) << out;
  ProcessResult r = (*p)->Wait();
  EXPECT_EQ(r.status, "exited");
  EXPECT_EQ(r.exit_code, 0);

  auto q = Start(Spawn({testing::HelperPath(), "echo", "two"}));
  ASSERT_TRUE(q.ok()) << q.error().detail;
  auto [out2, err2] = testing::DrainOutput(**q);
  EXPECT_NE(out2.find("two"), std::string::npos);
  EXPECT_NE(err2.find("err"), std::string::npos) << "stderr arrives as its own stream";
  EXPECT_EQ((*q)->Wait().exit_code, 3);
  // The runner exits once the server has the exit (it is not left behind per command).
  EXPECT_EQ(::WaitForSingleObject((*q)->runner_process(), kWaitMs), WAIT_OBJECT_0);
}

TEST_F(RunnerTest, StdinReachesTheCommand) {
  RunnerSpawn s = Spawn({testing::HelperPath(), "cat"});
  s.stdin_pipe = true;
  auto p = Start(s);
  ASSERT_TRUE(p.ok()) << p.error().detail;
  ASSERT_TRUE((*p)->WriteStdin("ping\n").ok());
  ASSERT_TRUE((*p)->WriteStdin("pong").ok());
  ASSERT_TRUE((*p)->CloseStdin().ok());
  auto [out, err] = testing::DrainOutput(**p);
  EXPECT_EQ(out, "ping\npong");
  EXPECT_EQ((*p)->Wait().exit_code, 0);
}

TEST_F(RunnerTest, TerminateEndsTheTreeIncludingGrandchild) {
  std::wstring dir = testing::MakeTempDir(L"runner-tree");
  std::wstring pidfile = dir + L"\\pids.txt";
  auto p = Start(Spawn({testing::HelperPath(), "tree", WideToUtf8(pidfile)}));
  ASSERT_TRUE(p.ok()) << p.error().detail;
  DWORD child = 0, grandchild = 0;
  ASSERT_TRUE(ReadPids(pidfile, &child, &grandchild));
  EXPECT_EQ(child, static_cast<DWORD>((*p)->pid()));
  ScopedHandle hc(::OpenProcess(SYNCHRONIZE, FALSE, child));
  ScopedHandle hg(::OpenProcess(SYNCHRONIZE, FALSE, grandchild));
  ASSERT_TRUE(hc.valid() && hg.valid());
  EXPECT_EQ(::WaitForSingleObject(hg.get(), 0), static_cast<DWORD>(WAIT_TIMEOUT)) << "grandchild running";
  ASSERT_TRUE((*p)->Kill(KillReason::kTerminate).ok());
  testing::DrainOutput(**p);
  ProcessResult r = (*p)->Wait();
  EXPECT_EQ(r.status, "killed");
  EXPECT_EQ(::WaitForSingleObject(hc.get(), kWaitMs), WAIT_OBJECT_0);
  EXPECT_EQ(::WaitForSingleObject(hg.get(), kWaitMs), WAIT_OBJECT_0);
}

TEST_F(RunnerTest, ClosingThePipeKillsTheJobAndTheRunner) {
  std::wstring dir = testing::MakeTempDir(L"runner-close");
  std::wstring pidfile = dir + L"\\pids.txt";
  // Driven by hand (no RunnerProcess, whose destructor also terminates the runner): only the
  // pipe closes here, and the test's job stays open, so whatever ends the tree is the runner.
  auto conn = StartRunner(*launcher_, RunnerExe(), job_, kWaitMs);
  ASSERT_TRUE(conn.ok()) << conn.error().detail;
  ASSERT_TRUE(WriteFrame(conn->pipes.to_runner.get(), ToJson(Spawn({testing::HelperPath(), "tree", WideToUtf8(pidfile)}))).ok());
  auto ready = ReadFrame(conn->pipes.from_runner.get());
  ASSERT_TRUE(ready.ok() && ready->has_value());
  ASSERT_EQ((**ready)["type"], "ready") << (**ready).dump();
  DWORD child = 0, grandchild = 0;
  ASSERT_TRUE(ReadPids(pidfile, &child, &grandchild));
  ScopedHandle hc(::OpenProcess(SYNCHRONIZE, FALSE, child));
  ScopedHandle hg(::OpenProcess(SYNCHRONIZE, FALSE, grandchild));
  ASSERT_TRUE(hc.valid() && hg.valid());
  EXPECT_EQ(::WaitForSingleObject(conn->runner.process.get(), 0), static_cast<DWORD>(WAIT_TIMEOUT));
  conn->pipes.to_runner.reset();
  EXPECT_EQ(::WaitForSingleObject(conn->runner.process.get(), kWaitMs), WAIT_OBJECT_0) << "runner exits";
  EXPECT_EQ(::WaitForSingleObject(hc.get(), kWaitMs), WAIT_OBJECT_0) << "command ended with the runner's job";
  EXPECT_EQ(::WaitForSingleObject(hg.get(), kWaitMs), WAIT_OBJECT_0) << "grandchild ended too";
  auto active = job_.ActiveProcesses();
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(*active, 0u) << "nothing of the runner's left in the outer job";
}

TEST_F(RunnerTest, RefusedSpawnIsAnErrorNotAProcess) {
  RunnerSpawn s = Spawn({"cordon-no-such-program-here.exe"});
  auto p = Start(s);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::kNotFound) << p.error().detail;

  auto conn = StartRunner(*launcher_, RunnerExe(), job_, kWaitMs);
  ASSERT_TRUE(conn.ok()) << conn.error().detail;
  auto j = ToJson(Spawn({"cmd", "/c", "echo hi"}));
  j["v"] = 99;
  ASSERT_TRUE(WriteFrame(conn->pipes.to_runner.get(), j).ok());
  auto answer = ReadFrame(conn->pipes.from_runner.get());
  ASSERT_TRUE(answer.ok() && answer->has_value());
  EXPECT_EQ((**answer)["type"], "error");
  EXPECT_EQ(::WaitForSingleObject(conn->runner.process.get(), kWaitMs), WAIT_OBJECT_0);
}

TEST_F(RunnerTest, RunnerThatDiesBeforeConnectingIsReported) {
  // Not cordon-runner: a program that exits at once without opening the pipes.
  auto conn = StartRunner(*launcher_, Utf8ToWide(testing::HelperPath()), job_, kWaitMs);
  ASSERT_FALSE(conn.ok());
  EXPECT_NE(conn.error().detail.find("before connecting"), std::string::npos) << conn.error().detail;
}

}  // namespace
}  // namespace cordon::win
