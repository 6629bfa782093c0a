// The MCP client's roots as workspace directories: file URIs in the spellings clients send,
// and the roots that must be passed over (not file://, a remote host, missing, not a directory).
#include "server/client_roots.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace cordon::server {
namespace {

TEST(FileUriTest, LocalSpellingsBecomePolicyPaths) {
  EXPECT_EQ(PolicyPathFromFileUri("file:///home/me/ws"), "/home/me/ws");
  EXPECT_EQ(PolicyPathFromFileUri("file://localhost/home/me/ws"), "/home/me/ws");
  EXPECT_EQ(PolicyPathFromFileUri("FILE:///home/me/ws/"), "/home/me/ws");
  EXPECT_EQ(PolicyPathFromFileUri("file:///home/me/my%20ws"), "/home/me/my ws");
  EXPECT_EQ(PolicyPathFromFileUri("file:///home/me/%E2%82%AC"), "/home/me/\xE2\x82\xAC");
  EXPECT_EQ(PolicyPathFromFileUri("file:///home/me/./ws//sub/.."), "/home/me/ws");
  EXPECT_EQ(PolicyPathFromFileUri("file:///home/me/ws?query#frag"), "/home/me/ws");
  EXPECT_EQ(PolicyPathFromFileUri("file:///"), "/");
  // Windows drive forms, including the old "|" spelling and a lower-case drive letter.
  EXPECT_EQ(PolicyPathFromFileUri("file:///c:/Users/me/ws"), "/C:/Users/me/ws");
  EXPECT_EQ(PolicyPathFromFileUri("file:///C%3A/Users/me"), "/C:/Users/me");
  EXPECT_EQ(PolicyPathFromFileUri("file:///c|/Users"), "/C:/Users");
}

TEST(FileUriTest, AnythingElseIsRefused) {
  EXPECT_FALSE(PolicyPathFromFileUri("https://example.com/ws"));
  EXPECT_FALSE(PolicyPathFromFileUri("/home/me/ws"));
  EXPECT_FALSE(PolicyPathFromFileUri("file://server/share/ws")) << "a remote host is not a local directory";
  EXPECT_FALSE(PolicyPathFromFileUri("file://localhostile/ws"));
  EXPECT_FALSE(PolicyPathFromFileUri("file://"));
  EXPECT_FALSE(PolicyPathFromFileUri("file:///home/%zz"));
  EXPECT_FALSE(PolicyPathFromFileUri("file:///home/%2"));
  EXPECT_FALSE(PolicyPathFromFileUri("file:///home/a%00b")) << "an encoded NUL would cut the path short";
  EXPECT_FALSE(PolicyPathFromFileUri("file:///../etc"));
}

class WorkspaceFromRootsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cordon-roots-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ + "/file.txt") << "x";
    ASSERT_EQ(::mkdir((dir_ + "/a b").c_str(), 0755), 0);
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string dir_;
};

TEST_F(WorkspaceFromRootsTest, ExistingDirectoriesAreTakenInOrderWithoutDuplicates) {
  protocol::Json result = {{"roots",
                            {{{"uri", "file://" + dir_ + "/a%20b"}, {"name", "spaced"}},
                             {{"uri", "file://" + dir_}},
                             {{"uri", "file://" + dir_ + "/"}}}}};
  WorkspaceRoots roots = WorkspaceFromRoots(result);
  EXPECT_EQ(roots.directories, (std::vector<std::string>{dir_ + "/a b", dir_}));
  EXPECT_TRUE(roots.passed_over.empty());
}

TEST_F(WorkspaceFromRootsTest, UnusableRootsArePassedOverWithTheReason) {
  protocol::Json result = {{"roots",
                            {{{"uri", "file://" + dir_ + "/missing"}},
                             {{"uri", "file://" + dir_ + "/file.txt"}},
                             {{"uri", "https://example.com/"}},
                             {{"name", "no uri"}},
                             "not an object"}}};
  WorkspaceRoots roots = WorkspaceFromRoots(result);
  EXPECT_TRUE(roots.directories.empty());
  ASSERT_EQ(roots.passed_over.size(), 5u);
  EXPECT_NE(roots.passed_over[0].find("not an existing directory"), std::string::npos);
  EXPECT_NE(roots.passed_over[1].find("not an existing directory"), std::string::npos);
  EXPECT_NE(roots.passed_over[2].find("not a local file:// URI"), std::string::npos);

  EXPECT_TRUE(WorkspaceFromRoots(protocol::Json::object()).directories.empty());
  EXPECT_EQ(WorkspaceFromRoots(protocol::Json::array()).passed_over.size(), 1u);
}

}  // namespace
}  // namespace cordon::server
