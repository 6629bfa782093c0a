// Wire structs: exact field names, defaults, and nlohmann exceptions for bad params (which the
// binder turns into -32602).
#include "sandbox/ops/fs_types.h"

#include <gtest/gtest.h>

namespace cordon::ops {
namespace {

using nlohmann::json;

TEST(FsTypes, ReadFileParamsDefaultsAndFields) {
  auto p = json::parse(R"({"path":"a.txt"})").get<ReadFileParams>();
  EXPECT_EQ(p.path, "a.txt");
  EXPECT_FALSE(p.offset);
  EXPECT_EQ(p.encoding, Encoding::kUtf8);
  p = json::parse(R"({"path":"a","offset":3,"limit":10,"encoding":"base64","sessionId":"s"})").get<ReadFileParams>();
  EXPECT_EQ(*p.offset, 3u);
  EXPECT_EQ(*p.limit, 10u);
  EXPECT_EQ(p.encoding, Encoding::kBase64);
}

TEST(FsTypes, MissingOrWrongFieldsThrow) {
  EXPECT_THROW(json::parse(R"({})").get<ReadFileParams>(), json::out_of_range);
  EXPECT_THROW(json::parse(R"({"path":5})").get<ReadFileParams>(), json::type_error);
  EXPECT_THROW(json::parse(R"({"path":"a","offset":-1})").get<ReadFileParams>(), json::type_error);
  EXPECT_THROW(json::parse(R"({"path":"a","offset":1.5})").get<ReadFileParams>(), json::type_error);
  EXPECT_THROW(json::parse(R"({"path":"a","encoding":"latin1"})").get<ReadFileParams>(), json::type_error);
  EXPECT_THROW(json::parse(R"([])").get<ReadFileParams>(), json::type_error);
  EXPECT_THROW(json::parse(R"({"path":"a"})").get<WriteFileParams>(), json::out_of_range);
  EXPECT_THROW(json::parse(R"({"path":"a","content":"x","createParents":"yes"})").get<WriteFileParams>(),
               json::type_error);
  EXPECT_THROW(json::parse(R"({"patch":"x","format":"git"})").get<ApplyPatchParams>(), json::type_error);
  EXPECT_THROW(json::parse(R"({"path":"a","depth":0})").get<ReadDirectoryParams>(), json::type_error);
}

TEST(FsTypes, NullMeansAbsent) {
  auto p = json::parse(R"({"path":"a","content":"x","expectedSha256":null})").get<WriteFileParams>();
  EXPECT_FALSE(p.expectedSha256);
}

TEST(FsTypes, ResultsUseWireNames) {
  ReadFileResult r;
  r.content = "x";
  r.totalLines = 3;
  r.startLine = 1;
  r.endLine = 1;
  r.size = 6;
  r.sha256 = "ab";
  json j = r;
  for (const char* k : {"content", "encoding", "totalLines", "startLine", "endLine", "truncated", "size", "sha256"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j.get<ReadFileResult>().totalLines, 3u);

  ApplyPatchResult a{true, {PatchFileReport{"a", "move", "b", 2}, PatchFileReport{"c", "add", std::nullopt, 1}}};
  json ja = a;
  EXPECT_EQ(ja["files"][0]["movedTo"], "b");
  EXPECT_FALSE(ja["files"][1].contains("movedTo"));
  EXPECT_EQ(ja.get<ApplyPatchResult>().files.size(), 2u);

  MetadataResult m{"file", 10, 0644, 1700000000000, std::string("ff")};
  json jm = m;
  EXPECT_EQ(jm["mtimeMs"], 1700000000000);
  EXPECT_EQ(jm.get<MetadataResult>().sha256, "ff");

  ReadDirectoryResult d{{DirEntry{"a", "file", 1}}, false};
  json jd = d;
  EXPECT_EQ(jd["entries"][0]["type"], "file");
  EXPECT_EQ(jd.get<ReadDirectoryResult>().entries[0].name, "a");

  WriteFileParams w;
  w.path = "p";
  w.content = "c";
  w.expectedSha256 = "e";
  json jw = w;
  EXPECT_EQ(jw["expectedSha256"], "e");
  EXPECT_EQ(jw.get<WriteFileParams>().expectedSha256, "e");
}

}  // namespace
}  // namespace cordon::ops
