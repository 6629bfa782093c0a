// fs/readFile, fs/readDirectory, fs/getMetadata and fs/writeFile on real files.
#include <sys/stat.h>

#include "sandbox/base64.h"
#include "sandbox/ops/sha256.h"
#include "tests/unit/ops/ops_test_util.h"

namespace cordon::ops::testing {
namespace {

using ReadFileTest = TempTree;
using WriteFileTest = TempTree;
using DirectoryTest = TempTree;

ReadFileResult MustRead(const FsContext& ctx, ReadFileParams p) {
  auto r = ReadFile(ctx, p);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().detail);
  return r.ok() ? r.value() : ReadFileResult{};
}

ReadFileParams Lines(std::string path, std::optional<uint64_t> offset = {}, std::optional<uint64_t> limit = {}) {
  ReadFileParams p;
  p.path = std::move(path);
  p.offset = offset;
  p.limit = limit;
  return p;
}

TEST_F(ReadFileTest, WholeFileWithTotalsAndHash) {
  Put(ws_ / "a.txt", "one\ntwo\nthree\n");
  auto r = MustRead(ctx(), Lines("a.txt"));
  EXPECT_EQ(r.content, "one\ntwo\nthree\n");
  EXPECT_EQ(r.totalLines, 3u);
  EXPECT_EQ(r.startLine, 1u);
  EXPECT_EQ(r.endLine, 3u);
  EXPECT_FALSE(r.truncated);
  EXPECT_EQ(r.size, 14u);
  EXPECT_EQ(r.sha256, Sha256Hex("one\ntwo\nthree\n"));
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_F(ReadFileTest, LineRanges) {
  Put(ws_ / "a.txt", "1\n2\n3\n4\n5");
  auto r = MustRead(ctx(), Lines((ws_ / "a.txt").string(), 2, 2));
  EXPECT_EQ(r.content, "2\n3\n");
  EXPECT_EQ(r.startLine, 2u);
  EXPECT_EQ(r.endLine, 3u);
  EXPECT_EQ(r.totalLines, 5u);
  r = MustRead(ctx(), Lines("a.txt", 4));
  EXPECT_EQ(r.content, "4\n5");
  EXPECT_EQ(r.endLine, 5u);
  r = MustRead(ctx(), Lines("a.txt", 9));
  EXPECT_EQ(r.content, "");
  EXPECT_EQ(r.startLine, 9u);
  EXPECT_EQ(r.endLine, 8u);
}

TEST_F(ReadFileTest, CapTruncatesAtLineBoundary) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "line " + std::to_string(i) + "\n";
  Put(ws_ / "big.txt", text);
  FsContext small(*policy_);
  small.limits.max_read_bytes = 100;
  auto r = MustRead(small, Lines("big.txt"));
  EXPECT_TRUE(r.truncated);
  EXPECT_LE(r.content.size(), 100u);
  EXPECT_EQ(r.content.back(), '\n');
  EXPECT_EQ(r.endLine, 13u);  // "line 0\n".."line 9\n" = 70 bytes, then three 8-byte lines
  EXPECT_EQ(r.totalLines, 1000u);
  EXPECT_EQ(r.sha256, Sha256Hex(text));
  // A single line longer than the cap comes back cut.
  Put(ws_ / "long.txt", std::string(300, 'x') + "\n");
  r = MustRead(small, Lines("long.txt"));
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.content, std::string(100, 'x'));
}

TEST_F(ReadFileTest, InvalidUtf8IsReplaced) {
  Put(ws_ / "b.txt", "ok \xff\xfe end\n\xE2\x82\xAC\n");
  auto r = MustRead(ctx(), Lines("b.txt"));
  EXPECT_EQ(r.content, "ok \xEF\xBF\xBD\xEF\xBF\xBD end\n\xE2\x82\xAC\n");
}

TEST_F(ReadFileTest, Base64ByteRanges) {
  Put(ws_ / "bin", std::string("\x00\x01\x02\x03\x04\x05", 6));
  ReadFileParams p;
  p.path = "bin";
  p.encoding = Encoding::kBase64;
  p.offset = 2;
  p.limit = 3;
  auto r = MustRead(ctx(), p);
  EXPECT_EQ(Base64Decode(r.content).value(), std::string("\x02\x03\x04", 3));
  EXPECT_EQ(r.size, 6u);
  p.offset.reset();
  p.limit.reset();
  r = MustRead(ctx(), p);
  EXPECT_EQ(Base64Decode(r.content).value(), std::string("\x00\x01\x02\x03\x04\x05", 6));
}

TEST_F(ReadFileTest, ErrorsAreTyped) {
  fs::create_directories(ws_ / "d");
  ::mkfifo((ws_ / "fifo").c_str(), 0644);
  auto r = ReadFile(ctx(), Lines("missing"));
  EXPECT_EQ(r.error().kind, ErrorKind::kNotFound);
  r = ReadFile(ctx(), Lines("d"));
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  r = ReadFile(ctx(), Lines("fifo"));  // must not block
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
  r = ReadFile(ctx(), Lines(""));
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
}

TEST_F(ReadFileTest, CancelledBeforeReading) {
  Put(ws_ / "a.txt", "x\n");
  std::atomic<bool> cancel{true};
  FsContext c(*policy_, &cancel);
  EXPECT_EQ(ReadFile(c, Lines("a.txt")).error().kind, ErrorKind::kCancelled);
}

TEST_F(DirectoryTest, ListsSortedWithDepthAndNeverFollowsSymlinks) {
  Put(ws_ / "b.txt", "12345");
  Put(ws_ / "a" / "x.txt", "1");
  Put(ws_ / "a" / "deep" / "y.txt", "1");
  fs::create_directory_symlink(outside_, ws_ / "link");
  ReadDirectoryParams p;
  p.path = ".";
  auto r = ReadDirectory(ctx(), p);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  ASSERT_EQ(r->entries.size(), 3u);
  EXPECT_EQ(r->entries[0].name, "a");
  EXPECT_EQ(r->entries[0].type, "dir");
  EXPECT_EQ(r->entries[1].name, "b.txt");
  EXPECT_EQ(r->entries[1].size, 5u);
  EXPECT_EQ(r->entries[2].name, "link");
  EXPECT_EQ(r->entries[2].type, "symlink");
  p.depth = 3;
  r = ReadDirectory(ctx(), p);
  std::vector<std::string> names;
  for (auto& e : r->entries) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "a/deep", "a/deep/y.txt", "a/x.txt", "b.txt", "link"}));
  p.path = "b.txt";
  EXPECT_EQ(ReadDirectory(ctx(), p).error().kind, ErrorKind::kInvalidArgument);
}

TEST_F(DirectoryTest, EntryCapTruncates) {
  for (int i = 0; i < 10; ++i) Put(ws_ / ("f" + std::to_string(i)), "");
  FsContext small(*policy_);
  small.limits.max_dir_entries = 4;
  ReadDirectoryParams p;
  p.path = ws_.string();
  auto r = ReadDirectory(small, p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->entries.size(), 4u);
  EXPECT_TRUE(r->truncated);
}

TEST_F(DirectoryTest, Metadata) {
  Put(ws_ / "run.sh", "#!/bin/sh\n", 0755);
  fs::create_symlink("run.sh", ws_ / "l");
  auto m = GetMetadata(ctx(), GetMetadataParams{"run.sh"});
  ASSERT_TRUE(m.ok()) << m.error().detail;
  EXPECT_EQ(m->type, "file");
  EXPECT_EQ(m->size, 10u);
  EXPECT_EQ(m->mode, 0755u);
  EXPECT_GT(m->mtimeMs, 1'600'000'000'000);
  EXPECT_EQ(m->sha256, Sha256Hex("#!/bin/sh\n"));
  m = GetMetadata(ctx(), GetMetadataParams{"l"});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->type, "symlink");
  EXPECT_FALSE(m->sha256);
  m = GetMetadata(ctx(), GetMetadataParams{"."});
  EXPECT_EQ(m->type, "dir");
  EXPECT_EQ(GetMetadata(ctx(), GetMetadataParams{"nope"}).error().kind, ErrorKind::kNotFound);
}

WriteFileParams W(std::string path, std::string content) {
  WriteFileParams p;
  p.path = std::move(path);
  p.content = std::move(content);
  return p;
}

TEST_F(WriteFileTest, CreatesAndReplacesAtomically) {
  auto r = WriteFile(ctx(), W("new.txt", "hello\n"));
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(r->sha256, Sha256Hex("hello\n"));
  EXPECT_EQ(Get(ws_ / "new.txt"), "hello\n");
  r = WriteFile(ctx(), W("new.txt", "bye\n"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Get(ws_ / "new.txt"), "bye\n");
  EXPECT_TRUE(TempLeftovers(ws_).empty());
}

TEST_F(WriteFileTest, PreservesExecutableBit) {
  Put(ws_ / "run.sh", "old\n", 0750);
  ASSERT_TRUE(WriteFile(ctx(), W("run.sh", "new\n")).ok());
  struct stat st {};
  ::stat((ws_ / "run.sh").c_str(), &st);
  EXPECT_EQ(st.st_mode & 0777, 0750u);
}

TEST_F(WriteFileTest, CreateParents) {
  auto r = WriteFile(ctx(), W("x/y/z.txt", "1"));
  EXPECT_EQ(r.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(r.error().detail.find("createParents"), std::string::npos);
  auto p = W("x/y/z.txt", "1");
  p.createParents = true;
  ASSERT_TRUE(WriteFile(ctx(), p).ok());
  EXPECT_EQ(Get(ws_ / "x/y/z.txt"), "1");
}

TEST_F(WriteFileTest, ExpectedShaGuardsConcurrentEdits) {
  Put(ws_ / "f", "v1\n");
  auto p = W("f", "v2\n");
  p.expectedSha256 = Sha256Hex("v0\n");
  auto r = WriteFile(ctx(), p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kConflict);
  EXPECT_EQ(Get(ws_ / "f"), "v1\n");
  p.expectedSha256 = Sha256Hex("v1\n");
  ASSERT_TRUE(WriteFile(ctx(), p).ok());
  EXPECT_EQ(Get(ws_ / "f"), "v2\n");
  auto missing = W("nothing", "x");
  missing.expectedSha256 = Sha256Hex("");
  EXPECT_EQ(WriteFile(ctx(), missing).error().kind, ErrorKind::kConflict);
}

TEST_F(WriteFileTest, Base64AndErrors) {
  auto p = W("bin", Base64Encode(std::string("\x00\xff", 2)));
  p.encoding = Encoding::kBase64;
  ASSERT_TRUE(WriteFile(ctx(), p).ok());
  EXPECT_EQ(Get(ws_ / "bin"), std::string("\x00\xff", 2));
  p.content = "!!!";
  EXPECT_EQ(WriteFile(ctx(), p).error().kind, ErrorKind::kInvalidArgument);
  fs::create_directories(ws_ / "dir");
  EXPECT_EQ(WriteFile(ctx(), W("dir", "x")).error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(WriteFile(ctx(), W(ws_.string(), "x")).error().kind, ErrorKind::kInvalidArgument);
}

TEST_F(WriteFileTest, ReadOnlyPolicyDeniesWrites) {
  auto ro = PolicyBuilder().Mode(SandboxMode::kReadOnly).WorkspaceRoot(ws_.string()).Build();
  ASSERT_TRUE(ro.ok());
  FsContext c(*ro);
  auto r = WriteFile(c, W("a", "x"));
  EXPECT_EQ(r.error().kind, ErrorKind::kPolicyDenied);
  EXPECT_FALSE(fs::exists(ws_ / "a"));
}

TEST_F(WriteFileTest, ProtectedGitDirIsDenied) {
  fs::create_directories(ws_ / ".git");
  auto r = WriteFile(ctx(), W(".git/config", "x"));
  EXPECT_EQ(r.error().kind, ErrorKind::kPolicyDenied);
  EXPECT_FALSE(fs::exists(ws_ / ".git/config"));
}

}  // namespace
}  // namespace cordon::ops::testing
