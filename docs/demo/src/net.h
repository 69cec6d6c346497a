// Peers and P2P messages of minid. There is no socket: CConnman hands
// messages to the tracepoints and forgets them.

#ifndef MINID_NET_H
#define MINID_NET_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

using NodeId = int64_t;

// The network a peer's address belongs to, numbered as in Bitcoin Core.
enum Network : uint32_t {
    NET_UNROUTABLE = 0,
    NET_IPV4 = 1,
    NET_IPV6 = 2,
    NET_ONION = 3,
};

enum class ConnectionType {
    INBOUND,
    OUTBOUND_FULL_RELAY,
    BLOCK_RELAY,
};

std::string ConnectionTypeAsString(ConnectionType conn_type);

struct CSerializedNetMsg {
    std::string m_type;
    std::vector<unsigned char> data;
};

class CNode
{
public:
    const NodeId id;
    const std::string m_addr_name;
    const ConnectionType m_conn_type;
    const Network m_network;

    CNode(NodeId id_in, std::string addr_name, ConnectionType conn_type, Network network)
        : id{id_in}, m_addr_name{std::move(addr_name)}, m_conn_type{conn_type}, m_network{network} {}

    NodeId GetId() const { return id; }
    std::string ConnectionTypeAsString() const { return ::ConnectionTypeAsString(m_conn_type); }
};

class CConnman
{
    std::vector<std::unique_ptr<CNode>> m_nodes;
    uint64_t m_inbound_count{0};

public:
    // Adds a long-lived peer, without firing a tracepoint.
    CNode& AddNode(NodeId id, std::string addr_name, ConnectionType conn_type, Network network);
    CNode& GetNode(size_t index) { return *m_nodes.at(index); }
    size_t NodeCount() const { return m_nodes.size(); }

    // Accepts a short-lived inbound peer: fires net:inbound_connection.
    void AcceptConnection(NodeId id, const std::string& addr_name, Network network);

    // Sends a message: fires net:outbound_message.
    void PushMessage(CNode& node, CSerializedNetMsg&& msg);
};

#endif // MINID_NET_H
