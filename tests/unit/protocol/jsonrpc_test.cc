// JSON-RPC message classification, the depth pre-check and error shapes.
#include "protocol/jsonrpc.h"

#include <string>

#include <gtest/gtest.h>

namespace cordon::protocol {
namespace {

std::string Nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(JsonRpcTest, DepthLimitCountsArraysAndObjects) {
  EXPECT_FALSE(ExceedsDepth(Nested(128), 128));
  EXPECT_TRUE(ExceedsDepth(Nested(129), 128));
  EXPECT_TRUE(ExceedsDepth(Nested(10000), 128));
  EXPECT_FALSE(ExceedsDepth("{\"a\":{\"b\":[1]}}", 3));
  EXPECT_TRUE(ExceedsDepth("{\"a\":{\"b\":[1]}}", 2));
}

TEST(JsonRpcTest, DepthLimitSkipsStringsAndEscapes) {
  EXPECT_FALSE(ExceedsDepth("[\"[[[[[[\"]", 1));
  EXPECT_FALSE(ExceedsDepth("[\"\\\"[[[[\"]", 1)) << "an escaped quote does not end the string";
}

TEST(JsonRpcTest, TenThousandDeepIsRejectedBeforeParsing) {
  Parsed p = ParseJson(Nested(10000), 128);
  ASSERT_FALSE(p.json);
  EXPECT_EQ(p.error->code, code::kInvalidRequest);
}

TEST(JsonRpcTest, UnparsableIsParseError) {
  Parsed p = ParseJson("{\"a\":", 128);
  ASSERT_FALSE(p.json);
  EXPECT_EQ(p.error->code, code::kParseError);
}

TEST(JsonRpcTest, ClassifiesRequestNotificationResponse) {
  auto r = ClassifyMessage(Json::parse(R"({"jsonrpc":"2.0","id":7,"method":"m","params":{"a":1}})"));
  ASSERT_TRUE(std::holds_alternative<Request>(r));
  EXPECT_EQ(std::get<Request>(r).id, 7);
  auto n = ClassifyMessage(Json::parse(R"({"jsonrpc":"2.0","method":"m"})"));
  EXPECT_TRUE(std::holds_alternative<Notification>(n));
  auto resp = ClassifyMessage(Json::parse(R"({"jsonrpc":"2.0","id":"x","result":{}})"));
  EXPECT_TRUE(std::holds_alternative<Response>(resp));
}

TEST(JsonRpcTest, InvalidShapesAreInvalidRequests) {
  for (const char* text : {R"(1)", R"({"id":1,"method":"m"})", R"({"jsonrpc":"1.0","id":1,"method":"m"})",
                           R"({"jsonrpc":"2.0","id":1,"method":5})", R"({"jsonrpc":"2.0","id":{},"method":"m"})",
                           R"({"jsonrpc":"2.0","id":1.5,"method":"m"})", R"({"jsonrpc":"2.0","id":1,"method":"m","params":3})",
                           R"({"jsonrpc":"2.0","id":1})", R"({"jsonrpc":"2.0","id":null,"method":"m"})"}) {
    auto m = ClassifyMessage(Json::parse(text));
    ASSERT_TRUE(std::holds_alternative<Invalid>(m)) << text;
    EXPECT_EQ(std::get<Invalid>(m).error.code, code::kInvalidRequest) << text;
  }
}

TEST(JsonRpcTest, InvalidRequestKeepsAUsableId) {
  auto m = ClassifyMessage(Json::parse(R"({"jsonrpc":"2.0","id":"abc","method":7})"));
  ASSERT_TRUE(std::holds_alternative<Invalid>(m));
  EXPECT_EQ(std::get<Invalid>(m).id, "abc");
}

TEST(JsonRpcTest, CordonErrorCarriesKindAndDetail) {
  RpcError e = RpcError::Cordon(code::kPolicyDenied, "policy_denied", "outside the workspace");
  Json j = MakeError(3, e);
  EXPECT_EQ(j["jsonrpc"], "2.0");
  EXPECT_EQ(j["id"], 3);
  EXPECT_EQ(j["error"]["code"], -32010);
  EXPECT_EQ(j["error"]["data"]["kind"], "policy_denied");
  EXPECT_EQ(j["error"]["data"]["detail"], "outside the workspace");
  EXPECT_FALSE(MakeError(3, RpcError::Internal("x"))["error"].contains("data"));
}

}  // namespace
}  // namespace cordon::protocol
