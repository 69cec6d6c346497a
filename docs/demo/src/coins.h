// minid's in-memory UTXO cache.

#ifndef MINID_COINS_H
#define MINID_COINS_H

#include <uint256.h>

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

struct COutPoint {
    uint256 hash;
    uint32_t n;
};

struct Coin {
    int64_t nValue;   // in satoshis
    uint32_t nHeight; // height of the block that created the coin
    bool fCoinBase;

    bool IsCoinBase() const { return fCoinBase; }
};

class CCoinsViewCache
{
    std::vector<std::pair<COutPoint, Coin>> cacheCoins;

public:
    // Adds a coin: fires utxocache:add.
    void AddCoin(const COutPoint& outpoint, Coin&& coin);

    // Spends a coin: fires utxocache:spent. minid has no coins database, so
    // a coin not in the cache is spent as the caller describes it, as if it
    // had just been read from disk.
    void SpendCoin(const COutPoint& outpoint, const Coin& from_disk);

    size_t GetCacheSize() const { return cacheCoins.size(); }
    size_t DynamicMemoryUsage() const;

    // Writes the cache out (there is nowhere to write to) and, with erase,
    // empties it.
    void Flush(bool erase);
};

#endif // MINID_COINS_H
