#include <net.h>

#include <util/trace.h>

#include <cstdint>

TRACEPOINT_SEMAPHORE(net, inbound_message);
TRACEPOINT_SEMAPHORE(net, empty_message);

void ReceiveMessage(int64_t id, std::size_t size)
{
    TRACEPOINT(net, inbound_message, id, size);
    if (size == 0) {
        TRACEPOINT(net, empty_message,
            id,
            (uint64_t)size,
            (bool)true);
    }
}
