// A 256-bit hash (block hash, txid), stored as 32 bytes in the order
// Bitcoin Core keeps them in memory: little-endian, the reverse of how the
// hex is usually displayed.

#ifndef MINID_UINT256_H
#define MINID_UINT256_H

#include <cstddef>
#include <cstdint>
#include <cstring>

class uint256
{
    unsigned char m_data[32]{};

public:
    static constexpr size_t WIDTH{32};

    const unsigned char* data() const { return m_data; }
    unsigned char* data() { return m_data; }
    static constexpr size_t size() { return WIDTH; }

    friend bool operator==(const uint256& a, const uint256& b) { return std::memcmp(a.m_data, b.m_data, WIDTH) == 0; }
};

// Derives a hash from a tag and a number, the same on every run. minid has
// no real transactions or blocks; their hashes are made up this way from
// the iteration number.
uint256 DemoHash(const char* tag, uint64_t n);

// Derives a 64-bit value from a tag and a number, the same on every run.
uint64_t DemoNumber(const char* tag, uint64_t n);

#endif // MINID_UINT256_H
