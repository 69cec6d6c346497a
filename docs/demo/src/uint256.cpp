#include <uint256.h>

namespace {
// FNV-1a over the tag, so that different tags give unrelated hashes.
uint64_t TagSeed(const char* tag)
{
    uint64_t h{0xcbf29ce484222325};
    for (const char* p{tag}; *p; ++p) {
        h ^= static_cast<unsigned char>(*p);
        h *= 0x100000001b3;
    }
    return h;
}

// One step of splitmix64.
uint64_t Mix(uint64_t& state)
{
    uint64_t z{state += 0x9e3779b97f4a7c15};
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
}
} // namespace

uint64_t DemoNumber(const char* tag, uint64_t n)
{
    uint64_t state{TagSeed(tag) ^ n};
    return Mix(state);
}

uint256 DemoHash(const char* tag, uint64_t n)
{
    uint256 hash;
    uint64_t state{TagSeed(tag) ^ n};
    for (size_t word{0}; word < uint256::WIDTH / 8; ++word) {
        const uint64_t v{Mix(state)};
        for (size_t b{0}; b < 8; ++b) {
            hash.data()[word * 8 + b] = static_cast<unsigned char>(v >> (8 * b));
        }
    }
    return hash;
}
