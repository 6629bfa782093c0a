// Byte stream <-> message bodies. The framing (NDJSON as MCP stdio uses, or LSP's
// Content-Length headers) is detected from the first bytes a client sends and then fixed for
// the connection. The decoder never holds more than the configured message limit: an oversized
// frame is skipped as it streams past and reported once, and garbage is skipped up to the next
// frame boundary, so one bad frame never stops the next good one.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace cordon::protocol {

enum class Framing { kUnknown, kNdjson, kContentLength };

// The largest nesting depth a configuration may ask for; also the dispatcher's own backstop.
inline constexpr int kMaxAcceptedDepth = 100000;

struct FrameLimits {
  size_t max_message_bytes = 64u << 20;
  int max_depth = 128;
};

// One decoded unit: either a message body, or a framing error to answer with.
struct Frame {
  enum class Kind { kMessage, kTooLarge, kTooDeep, kBadHeader };
  Kind kind = Kind::kMessage;
  std::string body;  // the JSON text for kMessage; a description otherwise
};

class FrameDecoder {
 public:
  explicit FrameDecoder(FrameLimits limits = {}) : limits_(limits) {}

  // Appends bytes read from the client. Complete frames become available through Next().
  void Feed(std::string_view bytes);
  // Returns the next complete frame, if any.
  std::optional<Frame> Next();
  // Called at end of stream: a final NDJSON line without "\n" still counts.
  void Finish();

  Framing framing() const { return framing_; }
  // Bytes currently buffered (never much above the message limit).
  size_t buffered() const { return buf_.size(); }

 private:
  void Pump();
  bool PumpNdjson();
  bool PumpContentLength();
  void Emit(Frame::Kind kind, std::string body);

  FrameLimits limits_;
  Framing framing_ = Framing::kUnknown;
  std::string buf_;
  size_t scan_from_ = 0;        // NDJSON: where to continue searching for '\n'
  bool discarding_line_ = false;  // NDJSON: inside an oversized line
  size_t skip_bytes_ = 0;       // Content-Length: body bytes of an oversized frame still to drop
  bool quiet_resync_ = false;   // Content-Length: skipping the body of a frame with a bad header
  bool finished_ = false;
  std::deque<Frame> ready_;
};

// Frames one outgoing message body for the connection's framing.
std::string EncodeFrame(Framing framing, std::string_view body);

}  // namespace cordon::protocol
