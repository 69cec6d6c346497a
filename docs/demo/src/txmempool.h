// minid's mempool: the transactions it knows, by txid, size and fee.

#ifndef MINID_TXMEMPOOL_H
#define MINID_TXMEMPOOL_H

#include <uint256.h>

#include <cstdint>
#include <optional>
#include <vector>

struct CTxMemPoolEntry {
    uint256 txid;
    int32_t vsize;
    int64_t fee;  // in satoshis
    uint64_t time; // UNIX epoch seconds when the transaction entered the mempool
};

class CTxMemPool
{
    std::vector<CTxMemPoolEntry> m_entries;

public:
    std::optional<CTxMemPoolEntry> get(const uint256& txid) const;
    size_t size() const { return m_entries.size(); }

    // Adds entry: fires mempool:added.
    void addUnchecked(const CTxMemPoolEntry& entry);

    // Removes a transaction being replaced: fires mempool:removed with
    // reason "replaced".
    void removeReplaced(const uint256& txid);

    // Removes the transactions a connected block confirmed: fires
    // mempool:removed with reason "block" for each one in the mempool.
    void removeForBlock(const std::vector<uint256>& txids);
};

#endif // MINID_TXMEMPOOL_H
