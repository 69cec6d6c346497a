// Handling of the messages minid's peers send it.

#ifndef MINID_NET_PROCESSING_H
#define MINID_NET_PROCESSING_H

#include <net.h>

#include <string>
#include <vector>

class PeerManager
{
    CConnman& m_connman;

public:
    explicit PeerManager(CConnman& connman) : m_connman{connman} {}

    // Handles a message from node: fires net:inbound_message, then answers
    // it through CConnman::PushMessage.
    void ProcessMessage(CNode& node, const std::string& msg_type, const std::vector<unsigned char>& payload);
};

#endif // MINID_NET_PROCESSING_H
