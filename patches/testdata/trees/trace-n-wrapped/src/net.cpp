#include <net.h>

#include <util/trace.h>

#include <cstdint>

void ReceiveMessage(int64_t id, std::size_t size)
{
    TRACE2(net, inbound_message, id, size);
    if (size == 0) {
        TRACE3(net, empty_message,
               id,
               (uint64_t)size,
               (bool)true);
    }
}
