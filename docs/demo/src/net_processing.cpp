#include <net_processing.h>

#include <traceprint.h>
#include <util/trace.h>

#include <cstdint>

TRACEPOINT_SEMAPHORE(net, inbound_message);

namespace {
void WriteLE32(std::vector<unsigned char>& out, uint32_t v)
{
    for (int i{0}; i < 4; ++i) out.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

// The answer minid gives to a message; an empty type means none.
CSerializedNetMsg Answer(const std::string& msg_type, const std::vector<unsigned char>& payload)
{
    CSerializedNetMsg reply;
    if (msg_type == "ping") {
        reply.m_type = "pong"; // echoes the nonce
        reply.data = payload;
    } else if (msg_type == "inv") {
        reply.m_type = "getdata"; // asks for everything announced
        reply.data = payload;
    } else if (msg_type == "headers") {
        // Asks for headers again: protocol version, a locator of one hash
        // (the previous block of the first header received) and a zero
        // stop hash. The previous block hash starts after the one-byte
        // count and the four-byte block version.
        reply.m_type = "getheaders";
        WriteLE32(reply.data, 70016);
        reply.data.push_back(1);
        for (size_t i{5}; i < 5 + 32; ++i) reply.data.push_back(i < payload.size() ? payload[i] : 0);
        reply.data.insert(reply.data.end(), 32, 0);
    } else if (msg_type == "verack") {
        reply.m_type = "sendcmpct"; // high-bandwidth off, version 2
        reply.data = {0, 2, 0, 0, 0, 0, 0, 0, 0};
    }
    return reply;
}
} // namespace

void PeerManager::ProcessMessage(CNode& node, const std::string& msg_type, const std::vector<unsigned char>& payload)
{
    TracePrint("net", "inbound_message")
        .Int(node.GetId())
        .Str(node.m_addr_name.c_str())
        .Str(node.ConnectionTypeAsString().c_str())
        .Str(msg_type.c_str())
        .Uint(payload.size())
        .Hex(payload.data(), payload.size())
        .Emit();
    TRACEPOINT(net, inbound_message,
        node.GetId(),
        node.m_addr_name.c_str(),
        node.ConnectionTypeAsString().c_str(),
        msg_type.c_str(),
        payload.size(),
        payload.data());

    CSerializedNetMsg reply{Answer(msg_type, payload)};
    if (!reply.m_type.empty()) m_connman.PushMessage(node, std::move(reply));
}
