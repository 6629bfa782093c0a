// Process plumbing that Wine implements: command-line quoting, environment blocks, spawning
// into a job with captured pipes, job kill-on-close of a whole tree, TerminateJobObject.
#include <gtest/gtest.h>
#include <windows.h>
// after windows.h
#include <shellapi.h>

#include <cstdio>
#include <fstream>

#include "sandbox/win/command_line.h"
#include "sandbox/win/job.h"
#include "sandbox/win/pipes.h"
#include "sandbox/win/spawn.h"
#include "tests/win/test_util.h"

namespace cordon::win {
namespace {

using testing::CurrentEnv;
using testing::HelperPath;

TEST(CommandLine, QuotingRoundTripsThroughCommandLineToArgvW) {
  std::vector<std::string> argv = {"prog.exe", "a b", "c\\\"d", "e\\\\", "f\\\\\\\"g", "", "tab\there", "plain"};
  std::wstring line = BuildCommandLine(argv);
  int n = 0;
  wchar_t** parsed = ::CommandLineToArgvW(line.c_str(), &n);
  ASSERT_NE(parsed, nullptr);
  ASSERT_EQ(n, static_cast<int>(argv.size())) << WideToUtf8(line);
  for (int i = 0; i < n; ++i) EXPECT_EQ(WideToUtf8(parsed[i]), argv[static_cast<size_t>(i)]) << i;
  ::LocalFree(parsed);
}

TEST(CommandLine, EnvironmentBlockSortedCaseInsensitiveLastWins) {
  std::wstring block = BuildEnvironmentBlock({"b=1", "A=2", "a=3", "=bad", "noequals", "C=x=y"});
  std::wstring expect = std::wstring(L"B=1").substr(0, 0) + L"a=3" + L'\0' + L"b=1" + L'\0' + L"C=x=y" + L'\0' + L'\0';
  EXPECT_EQ(block, expect);
  EXPECT_EQ(BuildEnvironmentBlock({}), std::wstring(2, L'\0'));
}

Job MakeJob() {
  auto job = Job::Create(JobLimits{});
  EXPECT_TRUE(job.ok()) << job.error().detail;
  return std::move(job).value();
}

TEST(Spawn, CmdEchoOutputThroughPipes) {
  Job job = MakeJob();
  SpawnOptions opts;
  opts.argv = {"cmd", "/c", "echo hi"};
  opts.env = CurrentEnv();
  opts.job = &job;
  auto proc = Spawn(opts);
  ASSERT_TRUE(proc.ok()) << proc.error().detail;
  auto out = ReadToEnd(proc->stdout_read.get());
  ASSERT_TRUE(out.ok()) << out.error().detail;
  EXPECT_EQ(*out, "hi\r\n");
  auto code = WaitForExit(proc->process.get(), 10000);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0u);
}

TEST(Spawn, SeparateStdoutStderrAndExitCode) {
  Job job = MakeJob();
  SpawnOptions opts;
  opts.argv = {HelperPath(), "echo", "hello world"};
  opts.env = CurrentEnv();
  opts.job = &job;
  auto proc = Spawn(opts);
  ASSERT_TRUE(proc.ok()) << proc.error().detail;
  auto err = ReadToEnd(proc->stderr_read.get());
  auto out = ReadToEnd(proc->stdout_read.get());
  ASSERT_TRUE(out.ok() && err.ok());
  EXPECT_EQ(*out, "hello world\r\n");  // text-mode CRT
  EXPECT_EQ(*err, "err\r\n");
  EXPECT_EQ(*WaitForExit(proc->process.get(), 10000), 3u);
}

TEST(Spawn, StdinPipeReachesCommand) {
  Job job = MakeJob();
  SpawnOptions opts;
  opts.argv = {HelperPath(), "cat"};
  opts.env = CurrentEnv();
  opts.job = &job;
  opts.stdin_pipe = true;
  auto proc = Spawn(opts);
  ASSERT_TRUE(proc.ok()) << proc.error().detail;
  ASSERT_TRUE(WriteAll(proc->stdin_write.get(), "axb\r\nnope\r\n").ok());
  proc->stdin_write.reset();  // EOF
  auto out = ReadToEnd(proc->stdout_read.get());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "axb\r\nnope\r\n");
  EXPECT_TRUE(WaitForExit(proc->process.get(), 10000).ok());
}

TEST(Spawn, MissingProgramIsNotFound) {
  Job job = MakeJob();
  SpawnOptions opts;
  opts.argv = {"no-such-program-cordon.exe"};
  opts.job = &job;
  auto proc = Spawn(opts);
  ASSERT_FALSE(proc.ok());
  EXPECT_EQ(proc.error().kind, ErrorKind::kNotFound);
}

TEST(Spawn, RefusesToRunOutsideAJob) {
  SpawnOptions opts;
  opts.argv = {"cmd", "/c", "exit"};
  EXPECT_FALSE(Spawn(opts).ok());
}

// Reads "<child pid> <grandchild pid>" once the helper has written it.
bool ReadPids(const std::wstring& file, DWORD* a, DWORD* b) {
  for (int i = 0; i < 200; ++i) {
    std::ifstream in(WideToUtf8(file));
    if (in >> *a >> *b) return true;
    ::Sleep(25);
  }
  return false;
}

TEST(JobTest, KillOnCloseEndsTheWholeTreeIncludingGrandchild) {
  std::wstring dir = testing::MakeTempDir(L"tree");
  std::wstring pidfile = dir + L"\\pids.txt";
  DWORD child = 0, grandchild = 0;
  ScopedHandle hc, hg;
  {
    Job job = MakeJob();
    SpawnOptions opts;
    opts.argv = {HelperPath(), "tree", WideToUtf8(pidfile)};
    opts.env = CurrentEnv();
    opts.job = &job;
    auto proc = Spawn(opts);
    ASSERT_TRUE(proc.ok()) << proc.error().detail;
    ASSERT_TRUE(ReadPids(pidfile, &child, &grandchild));
    EXPECT_EQ(child, proc->pid);
    hc.reset(::OpenProcess(SYNCHRONIZE, FALSE, child));
    hg.reset(::OpenProcess(SYNCHRONIZE | PROCESS_QUERY_INFORMATION, FALSE, grandchild));
    ASSERT_TRUE(hc.valid() && hg.valid());
    BOOL in_job = FALSE;
    ASSERT_TRUE(::IsProcessInJob(hg.get(), job.handle(), &in_job));
    EXPECT_TRUE(in_job) << "grandchild inherits the job";
    EXPECT_EQ(::WaitForSingleObject(hg.get(), 0), static_cast<DWORD>(WAIT_TIMEOUT)) << "still running";
  }  // the Job goes out of scope: last handle closed
  EXPECT_EQ(::WaitForSingleObject(hc.get(), 5000), WAIT_OBJECT_0);
  EXPECT_EQ(::WaitForSingleObject(hg.get(), 5000), WAIT_OBJECT_0);
}

TEST(JobTest, TerminateSetsExitCodeAndReportsEvents) {
  Job job = MakeJob();
  SpawnOptions opts;
  opts.argv = {HelperPath(), "sleep", "60000"};
  opts.env = CurrentEnv();
  opts.job = &job;
  auto proc = Spawn(opts);
  ASSERT_TRUE(proc.ok()) << proc.error().detail;
  auto active = job.ActiveProcesses();
  ASSERT_TRUE(active.ok());
  EXPECT_GE(*active, 1u);
  ASSERT_TRUE(job.Terminate(77).ok());
  EXPECT_EQ(*WaitForExit(proc->process.get(), 5000), 77u);
  bool saw_new = false, saw_zero = false;
  for (int i = 0; i < 10 && !saw_zero; ++i) {
    auto ev = job.NextEvent(2000);
    ASSERT_TRUE(ev.ok());
    if (!ev->has_value()) break;
    saw_new |= (*ev)->kind == JobEventKind::kNewProcess;
    saw_zero |= (*ev)->kind == JobEventKind::kActiveZero;
  }
  EXPECT_TRUE(saw_new);
  EXPECT_TRUE(saw_zero);
}

TEST(JobTest, LimitsFromPolicyAndDegradedReport) {
  ResourceLimits rl;
  rl.memory_bytes = 256ull << 20;
  rl.max_processes = 16;
  JobLimits limits = JobLimits::FromPolicy(rl);
  limits.cpu_rate_percent = 50;
  auto job = Job::Create(limits);
  ASSERT_TRUE(job.ok()) << job.error().detail;
  if (RunningUnderWine()) {
    // Wine refuses CPU rate control (ERROR_INVALID_PARAMETER): reported, not fatal.
    ASSERT_EQ(job->degraded().size(), 1u);
    EXPECT_NE(job->degraded()[0].find("cpu rate"), std::string::npos);
  } else {
    EXPECT_TRUE(job->degraded().empty());
  }
}

// Enforcement, real Windows only.
TEST(JobEnforcement, MemoryLimitStopsABigAllocation) {
  SKIP_UNDER_WINE();
  JobLimits limits;
  limits.job_memory_bytes = 64ull << 20;
  auto job = Job::Create(limits);
  ASSERT_TRUE(job.ok());
  for (auto [mb, expect_ok] : {std::pair<const char*, bool>{"16", true}, {"256", false}}) {
    SpawnOptions opts;
    opts.argv = {HelperPath(), "alloc", mb};
    opts.env = CurrentEnv();
    opts.job = &*job;
    auto proc = Spawn(opts);
    ASSERT_TRUE(proc.ok());
    auto code = WaitForExit(proc->process.get(), 30000);
    ASSERT_TRUE(code.ok());
    EXPECT_EQ(*code == 0, expect_ok) << mb << " MB, exit " << *code;
  }
}

TEST(JobEnforcement, ActiveProcessLimit) {
  SKIP_UNDER_WINE();
  JobLimits limits;
  limits.active_processes = 1;
  auto job = Job::Create(limits);
  ASSERT_TRUE(job.ok());
  std::wstring dir = testing::MakeTempDir(L"plimit");
  SpawnOptions opts;
  opts.argv = {HelperPath(), "tree", WideToUtf8(dir + L"\\pids.txt")};
  opts.env = CurrentEnv();
  opts.job = &*job;
  auto proc = Spawn(opts);
  ASSERT_TRUE(proc.ok());
  // The helper cannot start its grandchild and exits with 2.
  EXPECT_EQ(*WaitForExit(proc->process.get(), 10000), 2u);
}

TEST(SpawnEnforcement, HandleListKeepsOtherInheritableHandlesOut) {
  SKIP_UNDER_WINE();
  SECURITY_ATTRIBUTES sa{sizeof(sa), nullptr, TRUE};
  ScopedHandle event(::CreateEventW(&sa, TRUE, FALSE, nullptr));
  ASSERT_TRUE(event.valid());
  Job job = MakeJob();
  SpawnOptions opts;
  opts.argv = {HelperPath(), "inherit", std::to_string(reinterpret_cast<uintptr_t>(event.get()))};
  opts.env = CurrentEnv();
  opts.job = &job;
  auto proc = Spawn(opts);
  ASSERT_TRUE(proc.ok());
  EXPECT_EQ(*WaitForExit(proc->process.get(), 10000), 1u) << "the event leaked into the command";
}

}  // namespace
}  // namespace cordon::win
