// config.toml loading: unknown keys and wrong types name the key and the line; `-c key=value`
// overrides are parsed as TOML, else taken as strings, and may use dotted keys.
#include "server/config.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

namespace cordon::server {
namespace {

std::string ErrorOf(const std::string& text, const std::vector<std::string>& overrides = {}) {
  auto c = ParseConfig(text, "cfg.toml", overrides);
  if (c) return "";
  return c.error().detail;
}

Config Ok(const std::string& text, const std::vector<std::string>& overrides = {}) {
  auto c = ParseConfig(text, "cfg.toml", overrides);
  EXPECT_TRUE(c.ok()) << (c ? "" : c.error().detail);
  return c ? *c : Config{};
}

TEST(ConfigTest, EmptyTextGivesDefaults) {
  Config c = Ok("");
  EXPECT_EQ(c.sandbox_mode, SandboxMode::kWorkspaceWrite);
  EXPECT_FALSE(c.network_access);
  EXPECT_EQ(c.max_message_bytes, 64u << 20);
  EXPECT_EQ(c.max_depth, 128);
  EXPECT_EQ(c.limits.memory_bytes, 512ull << 20);
}

TEST(ConfigTest, FullFile) {
  Config c = Ok(R"(
sandbox_mode = "read-only"
allow_degraded = true
[sandbox_workspace_write]
writable_roots = ["/tmp/a", "~/b"]
network_access = true
[limits]
memory_mb = 256
max_processes = 64
wall_timeout_ms = 5000
[paths]
protected = [".git", "/etc/x"]
[shell_environment_policy]
inherit = "core"
set = { FOO = "bar" }
[server]
max_message_mb = 2
max_depth = 64
)");
  EXPECT_EQ(c.sandbox_mode, SandboxMode::kReadOnly);
  EXPECT_TRUE(c.allow_degraded);
  EXPECT_EQ(c.writable_roots, (std::vector<std::string>{"/tmp/a", "~/b"}));
  EXPECT_TRUE(c.network_access);
  EXPECT_EQ(c.limits.memory_bytes, 256ull << 20);
  EXPECT_EQ(c.limits.max_processes, 64u);
  EXPECT_EQ(c.limits.wall_timeout_ms, 5000u);
  EXPECT_EQ(c.protected_paths.size(), 2u);
  EXPECT_EQ(c.env.set.at("FOO"), "bar");
  EXPECT_EQ(c.max_message_bytes, 2u << 20);
  EXPECT_EQ(c.max_depth, 64);
}

TEST(ConfigTest, UnknownTopLevelKeyNamesKeyAndLine) {
  std::string e = ErrorOf("sandbox_mode = \"read-only\"\n\nsandbox_mod = 1\n");
  EXPECT_NE(e.find("sandbox_mod"), std::string::npos) << e;
  EXPECT_NE(e.find("cfg.toml:3"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key"), std::string::npos) << e;
}

TEST(ConfigTest, UnknownNestedKeyNamesDottedKeyAndLine) {
  std::string e = ErrorOf("[limits]\nmemory_mb = 5\nmemroy_mb = 6\n");
  EXPECT_NE(e.find("limits.memroy_mb"), std::string::npos) << e;
  EXPECT_NE(e.find("cfg.toml:3"), std::string::npos) << e;
}

TEST(ConfigTest, UnknownTableNamesIt) {
  std::string e = ErrorOf("\n[limitz]\nmemory_mb = 5\n");
  EXPECT_NE(e.find("limitz"), std::string::npos) << e;
  EXPECT_NE(e.find("cfg.toml:2"), std::string::npos) << e;
}

TEST(ConfigTest, WrongTypesNameKeyAndLine) {
  struct Case {
    std::string text;
    std::string key;
    std::string line;
  } cases[] = {
      {"[sandbox_workspace_write]\nnetwork_access = \"yes\"\n", "sandbox_workspace_write.network_access", ":2"},
      {"\n[limits]\nmemory_mb = \"512\"\n", "limits.memory_mb", ":3"},
      {"[limits]\nmemory_mb = 1.5\n", "limits.memory_mb", ":2"},
      {"[limits]\nmax_processes = -4\n", "limits.max_processes", ":2"},
      {"sandbox_mode = 3\n", "sandbox_mode", ":1"},
      {"sandbox_mode = \"wide-open\"\n", "sandbox_mode", ":1"},
      {"allow_degraded = 1\n", "allow_degraded", ":1"},
      {"[sandbox_workspace_write]\nwritable_roots = \"/tmp\"\n", "sandbox_workspace_write.writable_roots", ":2"},
      {"[sandbox_workspace_write]\nwritable_roots = [\"/a\", 2]\n", "sandbox_workspace_write.writable_roots", ":2"},
      {"limits = 5\n", "limits", ":1"},
      {"[shell_environment_policy]\nset = { A = 1 }\n", "shell_environment_policy.set.A", ":2"},
      {"[server]\nmax_message_mb = 0\n", "server.max_message_mb", ":2"},
      {"[windows]\nsandbox = \"maybe\"\n", "windows.sandbox", ":2"},
  };
  for (const auto& c : cases) {
    std::string e = ErrorOf(c.text);
    EXPECT_NE(e.find(c.key), std::string::npos) << c.text << " -> " << e;
    EXPECT_NE(e.find("cfg.toml" + c.line), std::string::npos) << c.text << " -> " << e;
  }
}

TEST(ConfigTest, TomlSyntaxErrorNamesLine) {
  std::string e = ErrorOf("a = 1\nb = = 2\n");
  EXPECT_NE(e.find("cfg.toml:2"), std::string::npos) << e;
}

TEST(ConfigTest, OverrideBooleansAndNumbers) {
  Config c = Ok("[sandbox_workspace_write]\nnetwork_access = false\n",
                {"sandbox_workspace_write.network_access=true", "allow_degraded = true", "limits.memory_mb=1024",
                 "server.max_message_mb=1"});
  EXPECT_TRUE(c.network_access);
  EXPECT_TRUE(c.allow_degraded);
  EXPECT_EQ(c.limits.memory_bytes, 1024ull << 20);
  EXPECT_EQ(c.max_message_bytes, 1u << 20);
}

TEST(ConfigTest, OverrideLastOneWins) {
  Config c = Ok("", {"sandbox_workspace_write.network_access=true", "sandbox_workspace_write.network_access=false"});
  EXPECT_FALSE(c.network_access);
}

TEST(ConfigTest, OverrideMergesIntoTablesFromTheFile) {
  Config c = Ok("[limits]\nmax_processes = 10\n", {"limits.memory_mb=64"});
  EXPECT_EQ(c.limits.max_processes, 10u) << "a sibling key from the file survives";
  EXPECT_EQ(c.limits.memory_bytes, 64ull << 20);
}

TEST(ConfigTest, OverrideNonTomlValueIsTakenAsString) {
  Config c = Ok("", {"sandbox_mode=read-only", "shell_environment_policy.set.GREETING=hello world",
                     "shell_environment_policy.set.EQ=a=b", "shell_environment_policy.set.Q=say \"hi\" \\o/",
                     "shell_environment_policy.set.QUOTED=\"123\""});
  EXPECT_EQ(c.sandbox_mode, SandboxMode::kReadOnly);
  EXPECT_EQ(c.env.set.at("GREETING"), "hello world");
  EXPECT_EQ(c.env.set.at("EQ"), "a=b");
  EXPECT_EQ(c.env.set.at("Q"), "say \"hi\" \\o/");
  EXPECT_EQ(c.env.set.at("QUOTED"), "123");
}

TEST(ConfigTest, OverrideArrays) {
  Config c = Ok("", {R"(sandbox_workspace_write.writable_roots=["/x", "/y"])"});
  EXPECT_EQ(c.writable_roots, (std::vector<std::string>{"/x", "/y"}));
}

TEST(ConfigTest, OverrideErrorsNameTheOverride) {
  std::string e = ErrorOf("", {"allow_degraded=yes"});
  EXPECT_NE(e.find("allow_degraded"), std::string::npos) << e;
  EXPECT_NE(e.find("expected a boolean"), std::string::npos) << e;
  e = ErrorOf("", {"limits.memroy_mb=5"});
  EXPECT_NE(e.find("limits.memroy_mb"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key"), std::string::npos) << e;
  e = ErrorOf("", {"no_equals_sign"});
  EXPECT_NE(e.find("key=value"), std::string::npos) << e;
  e = ErrorOf("", {"=5"});
  EXPECT_NE(e.find("key=value"), std::string::npos) << e;
}

TEST(ConfigTest, LoadConfigReadsAFileAndRejectsAMissingOne) {
  char path[] = "/tmp/cordon-config-test-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  {
    std::ofstream out(path);
    out << "[limits]\nmax_processes = 7\nbogus = 1\n";
  }
  auto bad = LoadConfig(path, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().detail.find(std::string(path) + ":3"), std::string::npos) << bad.error().detail;
  {
    std::ofstream out(path);
    out << "[limits]\nmax_processes = 7\n";
  }
  auto good = LoadConfig(path, {"limits.max_processes=9"});
  ASSERT_TRUE(good.ok()) << good.error().detail;
  EXPECT_EQ(good->limits.max_processes, 9u);
  ::unlink(path);
  EXPECT_FALSE(LoadConfig(path, {}).ok()) << "an explicit --config that cannot be read is an error";
}

}  // namespace
}  // namespace cordon::server
