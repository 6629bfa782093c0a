// libFuzzer target over the protocol core: random bytes, split into random-sized reads, go
// through FrameDecoder and a Dispatcher carrying the MCP lifecycle and a few handlers that
// reply at once, later, never (dropped), twice, or by throwing. Beyond "no crash, no leak,
// no UB" it checks the invariants the server relies on: the decoder stays bounded, every
// message we send is serialisable, and once all handlers are done nothing is left in flight.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "protocol/dispatcher.h"
#include "protocol/framing.h"
#include "protocol/mcp_server.h"

namespace {

using cordon::protocol::CallContext;
using cordon::protocol::Dispatcher;
using cordon::protocol::Frame;
using cordon::protocol::FrameDecoder;
using cordon::protocol::FrameLimits;
using cordon::protocol::Json;
using cordon::protocol::McpServer;
using cordon::protocol::ReplyOnce;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the read size (1..64 bytes), so one input covers split reads too.
  size_t chunk = 1 + (data[0] & 63);
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  FrameLimits limits;
  limits.max_message_bytes = 4096;
  limits.max_depth = 16;
  FrameDecoder decoder(limits);

  size_t sent = 0;
  auto dispatcher = Dispatcher::Create([&sent](const Json& m) {
    std::string text = m.dump(-1, ' ', false, Json::error_handler_t::replace);
    Check(!text.empty());
    ++sent;
  });
  McpServer mcp(dispatcher, cordon::protocol::ServerIdentity{"cordon", "0", ""});
  std::vector<ReplyOnce> held;
  dispatcher->Register("echo", [](const Json& p, CallContext, ReplyOnce r) { r.Ok(p); });
  dispatcher->Register("hold", [&held](const Json&, CallContext, ReplyOnce r) { held.push_back(std::move(r)); });
  dispatcher->Register("drop", [](const Json&, CallContext, ReplyOnce) {});
  dispatcher->Register("twice", [](const Json&, CallContext, ReplyOnce r) {
    r.Ok(1);
    r.Fail(cordon::protocol::RpcError::Internal("second"));
  });
  dispatcher->Register("throw", [](const Json&, CallContext, ReplyOnce) { throw std::runtime_error("x"); });
  cordon::protocol::ToolDefinition tool;
  tool.name = "t";
  tool.input_schema = {{"type", "object"}};
  mcp.AddTool(tool, [](const Json& args, CallContext ctx, ReplyOnce r) {
    if (ctx.cancel->cancelled()) return;  // dropped: answered -32603 or silenced by the cancel
    r.Ok(cordon::protocol::ToolResult("ok", args));
  });

  auto pump = [&] {
    while (auto frame = decoder.Next()) {
      Check(frame->kind != Frame::Kind::kMessage || frame->body.size() <= limits.max_message_bytes);
      dispatcher->HandleFrame(*frame, decoder.framing());
    }
    // Bounded memory: the limit, one read, and at most one header block of slack.
    Check(decoder.buffered() <= limits.max_message_bytes + chunk + 8192 + 64);
  };
  for (size_t off = 0; off < input.size(); off += chunk) {
    decoder.Feed(input.substr(off, chunk));
    pump();
  }
  decoder.Finish();
  pump();

  // Half the held requests are answered, the rest dropped; then nothing may remain in flight.
  for (size_t i = 0; i < held.size(); i += 2) held[i].Ok("late");
  held.clear();
  Check(dispatcher->in_flight() == 0);
  dispatcher->CancelAll();
  return 0;
}
