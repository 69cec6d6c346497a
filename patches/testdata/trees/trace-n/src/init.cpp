#include <init.h>

#include <net.h>

#include <cstdint>
#include <string>

namespace {
int g_starts{0};
} // namespace

bool AppInitMain(int height, const std::string& name)
{
    if (height < 0 || name.empty()) {
        return false;
    }
    ++g_starts;
    ReceiveMessage(g_starts, name.size());
    return true;
}
