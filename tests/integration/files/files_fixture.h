// A scratch tree and a live `cordon serve` for the file-method protocol tests:
// <scratch>/ws (the workspace), <scratch>/outside and <scratch>/ws-evil (must never be written
// or read through the file methods; checked after every test), one initialized client.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/common/scratch_tree.h"
#include "tests/integration/common/serve_client.h"

namespace cordon::files_test {

namespace fs = std::filesystem;
using Json = test_client::Json;
using test_client::ServeClient;

// The directory the test binaries keep scratch trees in: not under /tmp, because the sandbox
// gives commands a private /tmp and the "outside" trees must be visible (read-only) inside it
// for the escape cases to mean anything.
inline std::string ScratchParent() {
  const char* env = std::getenv("CORDON_FILES_SCRATCH");
  std::string dir = env && *env ? env : CORDON_FILES_SCRATCH;
  ::mkdir(dir.c_str(), 0755);
  return dir;
}

using scratch_tree::Get;
using scratch_tree::Put;
using scratch_tree::Snapshot;
// Leftover temp or backup entries of patch/apply and fs/writeFile.
inline int TempLeftovers(const fs::path& dir) { return static_cast<int>(scratch_tree::TempLeftovers(dir).size()); }

// The error kind of a reply ("" for a success), and its message.
inline std::string Kind(const Json& reply) {
  if (!reply.contains("error")) return "";
  const Json& e = reply["error"];
  if (e.contains("data") && e["data"].is_object() && e["data"].contains("kind")) return e["data"]["kind"].get<std::string>();
  return "code " + std::to_string(e.value("code", 0));
}
inline std::string Message(const Json& reply) {
  if (!reply.contains("error")) return "";
  const Json& e = reply["error"];
  std::string m = e.value("message", "");
  if (e.contains("data") && e["data"].is_object()) m += " " + e["data"].value("detail", "");
  return m;
}

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ScratchParent() + "/t-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr) << tmpl;
    base_ = fs::path(tmpl.c_str());
    ws_ = base_ / "ws";
    outside_ = base_ / "outside";
    evil_ = base_ / "ws-evil";
    Put(outside_ / "secret.txt", "outside secret\n");
    Put(evil_ / "evil.txt", "evil\n");
    fs::create_directories(ws_);
    outside_before_ = Snapshot(outside_);
    evil_before_ = Snapshot(evil_);
    PrepareWorkspace();
    client_ = ServeClient::Start(ws_.string());
    ASSERT_TRUE(client_) << "could not start " << CORDON_BIN;
    ASSERT_TRUE(client_->Initialize()) << client_->Log();
    // The sandbox must be buildable on this host; otherwise nothing below means anything.
    Json info = client_->Call("sandbox/info", Json::object());
    ASSERT_TRUE(info.contains("result")) << info.dump();
    if (info["result"].contains("error"))
      GTEST_SKIP() << "the sandbox cannot be built here: " << info["result"]["error"].dump();
  }

  void TearDown() override {
    client_.reset();
    EXPECT_EQ(Snapshot(outside_), outside_before_) << "a file outside the workspace changed";
    EXPECT_EQ(Snapshot(evil_), evil_before_) << "a file in the sibling ws-evil changed";
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  // Runs before the server starts (the session's mounts are built from what exists then).
  virtual void PrepareWorkspace() {}

  Json Call(const std::string& method, const Json& params) { return client_->Call(method, params); }
  Json Read(const std::string& path) { return Call("fs/readFile", {{"path", path}}); }
  Json Write(const std::string& path, const std::string& content = "pwned\n", bool parents = false) {
    return Call("fs/writeFile", {{"path", path}, {"content", content}, {"createParents", parents}});
  }
  Json Patch(const std::string& patch, bool dry_run = false) {
    return Call("patch/apply", {{"patch", patch}, {"dryRun", dry_run}});
  }
  Json List(const std::string& path, int depth = 1) { return Call("fs/readDirectory", {{"path", path}, {"depth", depth}}); }
  // A shell command run by the sandbox (exec); returns {result, stdout, stderr}.
  Json Exec(const std::string& command) {
    Json r = Call("exec", {{"command", command}});
    return r.contains("result") ? r["result"] : r;
  }

  fs::path base_, ws_, outside_, evil_;
  std::map<std::string, std::string> outside_before_, evil_before_;
  std::unique_ptr<ServeClient> client_;
};

#define EXPECT_KIND(reply, kind)                                                  \
  do {                                                                            \
    const Json r_ = (reply);                                                      \
    EXPECT_EQ(Kind(r_), kind) << #reply << " -> " << r_.dump().substr(0, 600);    \
  } while (0)

#define EXPECT_OK(reply) EXPECT_KIND(reply, "")
#define EXPECT_DENIED(reply) EXPECT_KIND(reply, "policy_denied")

// Refused for any reason but an internal error (e.g. "a symlink is never patched through").
#define EXPECT_REFUSED(reply)                                                     \
  do {                                                                            \
    const Json r_ = (reply);                                                      \
    EXPECT_NE(Kind(r_), "") << #reply << " succeeded";                            \
    EXPECT_NE(Kind(r_), "code -32603") << r_.dump();                              \
  } while (0)

}  // namespace cordon::files_test
