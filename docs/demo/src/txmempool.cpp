#include <txmempool.h>

#include <traceprint.h>
#include <util/trace.h>

#include <algorithm>

TRACEPOINT_SEMAPHORE(mempool, added);
TRACEPOINT_SEMAPHORE(mempool, removed);

std::optional<CTxMemPoolEntry> CTxMemPool::get(const uint256& txid) const
{
    for (const auto& entry : m_entries) {
        if (entry.txid == txid) return entry;
    }
    return std::nullopt;
}

void CTxMemPool::addUnchecked(const CTxMemPoolEntry& entry)
{
    m_entries.push_back(entry);

    TracePrint("mempool", "added")
        .Hex(entry.txid.data(), entry.txid.size())
        .Int(entry.vsize)
        .Int(entry.fee)
        .Emit();
    TRACEPOINT(mempool, added,
        entry.txid.data(),
        entry.vsize,
        entry.fee);
}

// mempool:removed is fired from two places, removeReplaced and
// removeForBlock, so the binary has two call sites (two notes) for the one
// tracepoint, each with its own argument locations.

void CTxMemPool::removeReplaced(const uint256& txid)
{
    const auto it{std::find_if(m_entries.begin(), m_entries.end(), [&](const auto& e) { return e.txid == txid; })};
    if (it == m_entries.end()) return;
    const CTxMemPoolEntry entry{*it};
    m_entries.erase(it);

    TracePrint("mempool", "removed")
        .Hex(entry.txid.data(), entry.txid.size())
        .Str("replaced")
        .Int(entry.vsize)
        .Int(entry.fee)
        .Uint(entry.time)
        .Emit();
    TRACEPOINT(mempool, removed,
        entry.txid.data(),
        "replaced",
        entry.vsize,
        entry.fee,
        entry.time);
}

void CTxMemPool::removeForBlock(const std::vector<uint256>& txids)
{
    for (const uint256& txid : txids) {
        const auto it{std::find_if(m_entries.begin(), m_entries.end(), [&](const auto& e) { return e.txid == txid; })};
        if (it == m_entries.end()) continue;
        const CTxMemPoolEntry entry{*it};
        m_entries.erase(it);

        TracePrint("mempool", "removed")
            .Hex(entry.txid.data(), entry.txid.size())
            .Str("block")
            .Int(entry.vsize)
            .Int(entry.fee)
            .Uint(entry.time)
            .Emit();
        TRACEPOINT(mempool, removed,
            entry.txid.data(),
            "block",
            entry.vsize,
            entry.fee,
            entry.time);
    }
}
