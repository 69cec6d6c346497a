#include <net.h>

#include <traceprint.h>
#include <util/trace.h>

TRACEPOINT_SEMAPHORE(net, inbound_connection);
TRACEPOINT_SEMAPHORE(net, outbound_message);

std::string ConnectionTypeAsString(ConnectionType conn_type)
{
    switch (conn_type) {
    case ConnectionType::INBOUND: return "inbound";
    case ConnectionType::OUTBOUND_FULL_RELAY: return "outbound-full-relay";
    case ConnectionType::BLOCK_RELAY: return "block-relay-only";
    }
    return "unknown";
}

CNode& CConnman::AddNode(NodeId id, std::string addr_name, ConnectionType conn_type, Network network)
{
    if (conn_type == ConnectionType::INBOUND) ++m_inbound_count;
    m_nodes.push_back(std::make_unique<CNode>(id, std::move(addr_name), conn_type, network));
    return *m_nodes.back();
}

void CConnman::AcceptConnection(NodeId id, const std::string& addr_name, Network network)
{
    // The peer disconnects right away; only the count remembers it.
    const CNode node{id, addr_name, ConnectionType::INBOUND, network};
    ++m_inbound_count;

    TracePrint("net", "inbound_connection")
        .Int(node.GetId())
        .Str(node.m_addr_name.c_str())
        .Str(node.ConnectionTypeAsString().c_str())
        .Uint(node.m_network)
        .Uint(m_inbound_count)
        .Emit();
    TRACEPOINT(net, inbound_connection,
        node.GetId(),
        node.m_addr_name.c_str(),
        node.ConnectionTypeAsString().c_str(),
        (uint32_t)node.m_network,
        m_inbound_count);
}

void CConnman::PushMessage(CNode& node, CSerializedNetMsg&& msg)
{
    TracePrint("net", "outbound_message")
        .Int(node.GetId())
        .Str(node.m_addr_name.c_str())
        .Str(node.ConnectionTypeAsString().c_str())
        .Str(msg.m_type.c_str())
        .Uint(msg.data.size())
        .Hex(msg.data.data(), msg.data.size())
        .Emit();
    TRACEPOINT(net, outbound_message,
        node.GetId(),
        node.m_addr_name.c_str(),
        node.ConnectionTypeAsString().c_str(),
        msg.m_type.c_str(),
        msg.data.size(),
        msg.data.data());
}
