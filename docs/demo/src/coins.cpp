#include <coins.h>

#include <traceprint.h>
#include <util/trace.h>

#include <algorithm>

TRACEPOINT_SEMAPHORE(utxocache, add);
TRACEPOINT_SEMAPHORE(utxocache, spent);

void CCoinsViewCache::AddCoin(const COutPoint& outpoint, Coin&& coin)
{
    cacheCoins.emplace_back(outpoint, std::move(coin));
    const auto& [op, c]{cacheCoins.back()};

    TracePrint("utxocache", "add")
        .Hex(op.hash.data(), op.hash.size())
        .Uint(op.n)
        .Uint(c.nHeight)
        .Int(c.nValue)
        .Bool(c.IsCoinBase())
        .Emit();
    TRACEPOINT(utxocache, add,
        op.hash.data(),
        (uint32_t)op.n,
        (uint32_t)c.nHeight,
        (int64_t)c.nValue,
        (bool)c.IsCoinBase());
}

void CCoinsViewCache::SpendCoin(const COutPoint& outpoint, const Coin& from_disk)
{
    Coin coin{from_disk};
    const auto it{std::find_if(cacheCoins.begin(), cacheCoins.end(), [&](const auto& e) {
        return e.first.hash == outpoint.hash && e.first.n == outpoint.n;
    })};
    if (it != cacheCoins.end()) {
        coin = it->second;
        cacheCoins.erase(it);
    }

    TracePrint("utxocache", "spent")
        .Hex(outpoint.hash.data(), outpoint.hash.size())
        .Uint(outpoint.n)
        .Uint(coin.nHeight)
        .Int(coin.nValue)
        .Bool(coin.IsCoinBase())
        .Emit();
    TRACEPOINT(utxocache, spent,
        outpoint.hash.data(),
        (uint32_t)outpoint.n,
        (uint32_t)coin.nHeight,
        (int64_t)coin.nValue,
        (bool)coin.IsCoinBase());
}

size_t CCoinsViewCache::DynamicMemoryUsage() const
{
    return cacheCoins.size() * sizeof(cacheCoins[0]);
}

void CCoinsViewCache::Flush(bool erase)
{
    if (erase) cacheCoins.clear();
}
