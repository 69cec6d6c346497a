// minid's chain state: accepting transactions to the mempool, connecting
// blocks and flushing the UTXO cache.

#ifndef MINID_VALIDATION_H
#define MINID_VALIDATION_H

#include <coins.h>
#include <txmempool.h>
#include <uint256.h>

#include <cstdint>
#include <utility>
#include <vector>

struct CTransaction {
    uint256 txid;
    bool coinbase;
    // The coins this transaction spends, with what they were; minid has no
    // coins database to look them up in.
    std::vector<std::pair<COutPoint, Coin>> spends;
    std::vector<int64_t> vout; // output values in satoshis

    bool IsCoinBase() const { return coinbase; }
};

struct CBlock {
    uint256 hash;
    std::vector<CTransaction> vtx;
};

// When and why the UTXO cache is written out, numbered as in Bitcoin Core.
enum class FlushStateMode : uint32_t {
    NONE = 0,
    IF_NEEDED = 1,
    PERIODIC = 2,
    FORCE_FLUSH = 3,
    FORCE_SYNC = 4,
};

class Chainstate
{
    CTxMemPool& m_mempool;
    CCoinsViewCache m_coins;
    int32_t m_height{0};

    bool ConnectBlock(const CBlock& block, int32_t height);

public:
    explicit Chainstate(CTxMemPool& mempool) : m_mempool{mempool} {}

    // Accepts a transaction that conflicts with nothing: fires mempool:added.
    void AcceptToMemoryPool(const CTxMemPoolEntry& entry);

    // Accepts replacement, which replaces the mempool transaction conflict:
    // fires mempool:replaced, mempool:removed and mempool:added. With
    // package_hash the replacement arrived in a package of that hash.
    void AcceptReplacement(const CTxMemPoolEntry& replacement, const uint256& conflict, const uint256* package_hash);

    // Connects block on top of the tip: fires utxocache:spent and
    // utxocache:add for its coins, validation:block_connected, then
    // mempool:removed for its transactions.
    void ActivateBlock(const CBlock& block, int32_t height);

    // Writes the UTXO cache out: fires utxocache:flush.
    void FlushStateToDisk(FlushStateMode mode, bool prune);
};

#endif // MINID_VALIDATION_H
