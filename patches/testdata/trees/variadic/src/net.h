#ifndef NODE_NET_H
#define NODE_NET_H

#include <cstddef>
#include <cstdint>

//! Takes a message of size bytes from peer id.
void ReceiveMessage(int64_t id, std::size_t size);

#endif // NODE_NET_H
