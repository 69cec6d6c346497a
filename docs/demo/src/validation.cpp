#include <validation.h>

#include <traceprint.h>
#include <util/trace.h>

TRACEPOINT_SEMAPHORE(validation, block_connected);
TRACEPOINT_SEMAPHORE(utxocache, flush);
TRACEPOINT_SEMAPHORE(mempool, replaced);

// minid's clock is simulated, so that every run passes the same values:
// connecting a block takes one millisecond plus one microsecond per
// transaction input plus up to a millisecond of jitter made up from the
// height; flushing takes 100 microseconds plus 50 per coin.
namespace {
constexpr uint64_t CONNECT_BASE_NS{1'000'000};
constexpr uint64_t CONNECT_PER_INPUT_NS{1'000};
constexpr uint64_t CONNECT_JITTER_NS{1'000'000};
constexpr int64_t FLUSH_BASE_US{100};
constexpr int64_t FLUSH_PER_COIN_US{50};
} // namespace

void Chainstate::AcceptToMemoryPool(const CTxMemPoolEntry& entry)
{
    m_mempool.addUnchecked(entry);
}

void Chainstate::AcceptReplacement(const CTxMemPoolEntry& replacement, const uint256& conflict, const uint256* package_hash)
{
    const auto replaced{m_mempool.get(conflict)};
    if (replaced) {
        const bool replacement_is_tx{package_hash == nullptr};
        const uint256& replacement_hash{replacement_is_tx ? replacement.txid : *package_hash};

        TracePrint("mempool", "replaced")
            .Hex(replaced->txid.data(), replaced->txid.size())
            .Int(replaced->vsize)
            .Int(replaced->fee)
            .Uint(replaced->time)
            .Hex(replacement_hash.data(), replacement_hash.size())
            .Int(replacement.vsize)
            .Int(replacement.fee)
            .Bool(replacement_is_tx)
            .Emit();
        TRACEPOINT(mempool, replaced,
            replaced->txid.data(),
            replaced->vsize,
            replaced->fee,
            replaced->time,
            replacement_hash.data(),
            replacement.vsize,
            replacement.fee,
            replacement_is_tx);

        m_mempool.removeReplaced(conflict);
    }
    m_mempool.addUnchecked(replacement);
}

bool Chainstate::ConnectBlock(const CBlock& block, int32_t height)
{
    int nInputs{0};
    uint64_t nSigOpsCost{0};
    for (const CTransaction& tx : block.vtx) {
        for (const auto& [outpoint, coin] : tx.spends) {
            m_coins.SpendCoin(outpoint, coin);
            ++nInputs;
            nSigOpsCost += 4; // one signature check per input, scaled by the witness factor
        }
    }
    for (const CTransaction& tx : block.vtx) {
        for (uint32_t n{0}; n < tx.vout.size(); ++n) {
            m_coins.AddCoin(COutPoint{tx.txid, n}, Coin{tx.vout[n], (uint32_t)height, tx.IsCoinBase()});
        }
    }
    const uint64_t connect_ns{CONNECT_BASE_NS + CONNECT_PER_INPUT_NS * nInputs +
                              DemoNumber("connect", uint32_t(height)) % CONNECT_JITTER_NS};

    TracePrint("validation", "block_connected")
        .Hex(block.hash.data(), block.hash.size())
        .Int(height)
        .Uint(block.vtx.size())
        .Int(nInputs)
        .Uint(nSigOpsCost)
        .Uint(connect_ns)
        .Emit();
    TRACEPOINT(validation, block_connected,
        block.hash.data(),
        height,
        block.vtx.size(),
        nInputs,
        nSigOpsCost,
        connect_ns);

    return true;
}

void Chainstate::ActivateBlock(const CBlock& block, int32_t height)
{
    if (!ConnectBlock(block, height)) return;
    m_height = height;

    std::vector<uint256> txids;
    for (const CTransaction& tx : block.vtx) txids.push_back(tx.txid);
    m_mempool.removeForBlock(txids);
}

void Chainstate::FlushStateToDisk(FlushStateMode mode, bool prune)
{
    if (mode == FlushStateMode::NONE) return;
    const size_t coins_count{m_coins.GetCacheSize()};
    const size_t coins_mem_usage{m_coins.DynamicMemoryUsage()};
    // A flush for pruning empties the cache; a periodic one keeps it warm.
    m_coins.Flush(/*erase=*/prune);
    const int64_t flush_us{FLUSH_BASE_US + FLUSH_PER_COIN_US * (int64_t)coins_count};

    TracePrint("utxocache", "flush")
        .Int(flush_us)
        .Uint((uint32_t)mode)
        .Uint(coins_count)
        .Uint(coins_mem_usage)
        .Bool(prune)
        .Emit();
    TRACEPOINT(utxocache, flush,
        flush_us,
        (uint32_t)mode,
        (uint64_t)coins_count,
        (uint64_t)coins_mem_usage,
        prune);
}
