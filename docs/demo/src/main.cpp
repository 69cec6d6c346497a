// minid: a miniature node for demonstrating and testing usdtkit. It has no
// network, disk or consensus; in a loop it makes up what a Bitcoin node
// does (P2P messages, mempool changes, blocks, UTXO cache updates) and fires
// the tracepoints documented in doc/tracing.md.
//
// Usage: minid [--iterations N] [--interval-ms M] [--print] [--wait-for-semaphore MS] [--start-file PATH]
//
//   --iterations N          run N iterations, then exit 0; 0 (the default)
//                           runs until killed
//   --interval-ms M         sleep M milliseconds between iterations
//                           (default 1000)
//   --print                 print every tracepoint hit to stdout, see below
//   --wait-for-semaphore MS before the first iteration, wait up to MS
//                           milliseconds for a tracer to attach: until at
//                           least one tracepoint's semaphore is set and no
//                           further one has been set for 100 ms. Exits 3 if
//                           none is set in time.
//   --start-file PATH       before the first iteration, wait until PATH
//                           exists: whoever starts the tracers says when
//                           they all are attached.
//
// Exit status: 0 after N iterations, 2 for a usage error, 3 when
// --wait-for-semaphore timed out.
//
// Values. Iteration i (counting from 0) passes values derived only from i,
// the same on every run and whether or not a tracer is attached; for
// example validation:block_connected gets height 100 + i. The --print
// output is the authority on what each hit passes.
//
// The --print format. Each tracepoint hit writes one line to stdout before
// the tracepoint fires, and stdout is flushed after every line:
//
//   context:event arg0=VALUE arg1=VALUE ...
//
// with one argN=VALUE for every argument the tracepoint passes, numbered
// from 0 in the order they are passed (as bpftrace's arg0, arg1, ...), each
// VALUE written by its documented type:
//
//   int64, int32, uint64, uint32   decimal, with a '-' for negative values
//   bool                           0 or 1
//   pointer to C-style String      the string in double quotes, escaped as
//                                  Go's %q does (\" \\ \n \t ... and \xNN
//                                  for other control bytes); minid's
//                                  strings are plain ASCII
//   pointer to unsigned chars      lowercase hex of the bytes in memory
//                                  order: the message bytes (as many as the
//                                  size argument says, none for size 0) or
//                                  the 32 bytes of a hash
//
// Hashes (block hashes, txids) are printed in memory order, little-endian.
// Bitcoin Core displays them reversed, last byte first, so the hex that
// bitcoin-cli shows for a hash is this hex read backwards byte by byte.
//
// For example, from the first iteration:
//
//   net:inbound_message arg0=0 arg1="203.0.113.7:8333" arg2="inbound" arg3="ping" arg4=8 arg5=2c517a0a673db24b
//   validation:block_connected arg0=dd88bc5dfeafd43b197509fae69a9f126f14704d55e3898be3b3262f40d06280 arg1=100 arg2=2 arg3=1 arg4=4 arg5=1133347

#include <net.h>
#include <net_processing.h>
#include <traceprint.h>
#include <txmempool.h>
#include <uint256.h>
#include <util/trace.h>
#include <validation.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#ifdef ENABLE_TRACING
// Defined by TRACEPOINT_SEMAPHORE next to each tracepoint.
extern unsigned short net_inbound_connection_semaphore;
extern unsigned short net_inbound_message_semaphore;
extern unsigned short net_outbound_message_semaphore;
extern unsigned short validation_block_connected_semaphore;
extern unsigned short mempool_added_semaphore;
extern unsigned short mempool_removed_semaphore;
extern unsigned short mempool_replaced_semaphore;
extern unsigned short utxocache_add_semaphore;
extern unsigned short utxocache_spent_semaphore;
extern unsigned short utxocache_flush_semaphore;
#endif

namespace {
constexpr int EXIT_USAGE{2};
constexpr int EXIT_NO_TRACER{3};

// The simulated clock: iteration 0 happens at this UNIX time, each later
// one ten minutes later.
constexpr uint64_t START_TIME{1'700'000'000};
constexpr uint64_t BLOCK_INTERVAL{600};
constexpr int32_t START_HEIGHT{100};
constexpr int64_t BLOCK_SUBSIDY{312'500'000};

struct Options {
    uint64_t iterations{0};
    uint64_t interval_ms{1000};
    bool print{false};
    bool wait_for_semaphore{false};
    uint64_t wait_ms{0};
    std::string start_file;
};

void Usage(FILE* out)
{
    std::fputs("usage: minid [--iterations N] [--interval-ms M] [--print] [--wait-for-semaphore MS] [--start-file PATH]\n", out);
}

bool ParseNumber(const char* text, uint64_t& out)
{
    if (*text < '0' || *text > '9') return false;
    char* end{nullptr};
    errno = 0;
    const unsigned long long v{std::strtoull(text, &end, 10)};
    if (errno != 0 || *end != '\0') return false;
    out = v;
    return true;
}

// Parses argv into opts; prints the problem and returns false on a usage error.
bool ParseOptions(int argc, char** argv, Options& opts)
{
    for (int i{1}; i < argc; ++i) {
        std::string arg{argv[i]};
        std::string value;
        bool has_value{false};
        if (const auto eq{arg.find('=')}; arg.rfind("--", 0) == 0 && eq != std::string::npos) {
            value = arg.substr(eq + 1);
            arg.resize(eq);
            has_value = true;
        }
        if (arg == "--print" && !has_value) {
            opts.print = true;
            continue;
        }
        if (arg == "--start-file" && (has_value || i + 1 < argc)) {
            opts.start_file = has_value ? value : argv[++i];
            continue;
        }
        if (arg == "--help" || arg == "-h") {
            Usage(stdout);
            std::exit(0);
        }
        uint64_t* target{nullptr};
        if (arg == "--iterations") {
            target = &opts.iterations;
        } else if (arg == "--interval-ms") {
            target = &opts.interval_ms;
        } else if (arg == "--wait-for-semaphore") {
            target = &opts.wait_ms;
            opts.wait_for_semaphore = true;
        } else {
            std::fprintf(stderr, "minid: unknown option %s\n", argv[i]);
            return false;
        }
        if (!has_value) {
            if (i + 1 == argc) {
                std::fprintf(stderr, "minid: %s needs a number\n", arg.c_str());
                return false;
            }
            value = argv[++i];
        }
        if (!ParseNumber(value.c_str(), *target)) {
            std::fprintf(stderr, "minid: %s: not a number: %s\n", arg.c_str(), value.c_str());
            return false;
        }
    }
    return true;
}

#ifdef ENABLE_TRACING
int ActiveTracepoints()
{
    static unsigned short* const semaphores[]{
        &net_inbound_connection_semaphore,
        &net_inbound_message_semaphore,
        &net_outbound_message_semaphore,
        &validation_block_connected_semaphore,
        &mempool_added_semaphore,
        &mempool_removed_semaphore,
        &mempool_replaced_semaphore,
        &utxocache_add_semaphore,
        &utxocache_spent_semaphore,
        &utxocache_flush_semaphore,
    };
    int active{0};
    for (unsigned short* s : semaphores) {
        // The kernel changes the semaphores behind the compiler's back.
        if (*static_cast<volatile unsigned short*>(s) > 0) ++active;
    }
    return active;
}
#endif

// Waits for a tracer to attach; false if none did within timeout_ms.
bool WaitForTracer(uint64_t timeout_ms)
{
#ifdef ENABLE_TRACING
    using Clock = std::chrono::steady_clock;
    constexpr auto SETTLE{std::chrono::milliseconds{100}};
    const auto deadline{Clock::now() + std::chrono::milliseconds{timeout_ms}};
    int last{0};
    auto last_change{Clock::now()};
    for (;;) {
        const auto now{Clock::now()};
        const int active{ActiveTracepoints()};
        if (active != last) {
            last = active;
            last_change = now;
        }
        if (active > 0 && (now - last_change >= SETTLE || now >= deadline)) return true;
        if (active == 0 && now >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
#else
    (void)timeout_ms;
    return false;
#endif
}

void WriteLE32(std::vector<unsigned char>& out, uint32_t v)
{
    for (int i{0}; i < 4; ++i) out.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

void WriteLE64(std::vector<unsigned char>& out, uint64_t v)
{
    for (int i{0}; i < 8; ++i) out.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

void WriteHash(std::vector<unsigned char>& out, const uint256& hash)
{
    out.insert(out.end(), hash.data(), hash.data() + hash.size());
}

// The address of the short-lived inbound peer of iteration i.
std::string InboundAddress(uint64_t i, Network& network)
{
    char buf[64];
    const unsigned port{49152 + unsigned(i % 16384)};
    if (i % 2 == 0) {
        network = NET_IPV4;
        std::snprintf(buf, sizeof(buf), "198.51.100.%u:%u", 1 + unsigned(i % 254), port);
    } else {
        network = NET_IPV6;
        std::snprintf(buf, sizeof(buf), "[2001:db8::%x]:%u", unsigned(i % 65536), port);
    }
    return buf;
}

// The message a long-lived peer sends in iteration i: ping, inv, headers
// and verack in turn.
void InboundMessage(uint64_t i, std::string& msg_type, std::vector<unsigned char>& payload)
{
    payload.clear();
    switch (i % 4) {
    case 0:
        msg_type = "ping";
        WriteLE64(payload, DemoNumber("ping", i));
        break;
    case 1:
        msg_type = "inv"; // announces the transaction of this iteration
        payload.push_back(1);
        WriteLE32(payload, 1); // MSG_TX
        WriteHash(payload, DemoHash("tx", i));
        break;
    case 2:
        msg_type = "headers"; // one header, building on the previous iteration's block
        payload.push_back(1);
        WriteLE32(payload, 0x20000000);
        WriteHash(payload, DemoHash("block", i - 1));
        WriteHash(payload, DemoHash("merkle", i));
        WriteLE32(payload, uint32_t(START_TIME + BLOCK_INTERVAL * i));
        WriteLE32(payload, 0x207fffff);
        WriteLE32(payload, uint32_t(DemoNumber("nonce", i)));
        payload.push_back(0);
        break;
    default:
        msg_type = "verack"; // an empty payload
        break;
    }
}

void RunIteration(uint64_t i, CConnman& connman, PeerManager& peerman, Chainstate& chainstate)
{
    const uint64_t now{START_TIME + BLOCK_INTERVAL * i};
    const int32_t height{int32_t(START_HEIGHT + i)};

    // A peer connects to us, and one of the long-lived peers talks to us.
    Network network;
    const std::string addr{InboundAddress(i, network)};
    connman.AcceptConnection(NodeId(connman.NodeCount() + i), addr, network);

    std::string msg_type;
    std::vector<unsigned char> payload;
    InboundMessage(i, msg_type, payload);
    peerman.ProcessMessage(connman.GetNode(i % connman.NodeCount()), msg_type, payload);

    // A transaction enters the mempool and is replaced by a higher-fee one,
    // in every other iteration as part of a package.
    const CTxMemPoolEntry tx{DemoHash("tx", i), int32_t(141 + i % 1000), int64_t(1410 + 10 * (i % 1000)), now};
    chainstate.AcceptToMemoryPool(tx);
    const CTxMemPoolEntry replacement{DemoHash("replacement", i), int32_t(110 + i % 1000), int64_t(2820 + 20 * (i % 1000)), now + 1};
    const uint256 package_hash{DemoHash("package", i)};
    chainstate.AcceptReplacement(replacement, tx.txid, i % 2 == 0 ? nullptr : &package_hash);

    // A block confirms the replacement: it spends a coin created ten blocks
    // earlier and creates the coinbase's output and its own.
    const int64_t spent_value{int64_t(100'000 + 1'000 * (i % 1000))};
    CBlock block;
    block.hash = DemoHash("block", i);
    block.vtx.push_back(CTransaction{DemoHash("coinbase", i), true, {}, {BLOCK_SUBSIDY + replacement.fee}});
    block.vtx.push_back(CTransaction{
        replacement.txid,
        false,
        {{COutPoint{DemoHash("prevout", i), uint32_t(i % 4)}, Coin{spent_value, uint32_t(height - 10), false}}},
        {spent_value - replacement.fee},
    });
    chainstate.ActivateBlock(block, height);

    // Every fourth block a prune empties the UTXO cache; otherwise it is
    // written out periodically.
    const bool prune{i % 4 == 3};
    chainstate.FlushStateToDisk(prune ? FlushStateMode::IF_NEEDED : FlushStateMode::PERIODIC, prune);
}
} // namespace

int main(int argc, char** argv)
{
    Options opts;
    if (!ParseOptions(argc, argv, opts)) {
        Usage(stderr);
        return EXIT_USAGE;
    }
    g_print_tracepoints = opts.print;

    if (opts.wait_for_semaphore) {
#ifndef ENABLE_TRACING
        std::fputs("minid: --wait-for-semaphore: built without tracing (ENABLE_TRACING)\n", stderr);
        return EXIT_USAGE;
#endif
        if (!WaitForTracer(opts.wait_ms)) {
            std::fprintf(stderr, "minid: no tracer attached within %llu ms\n", (unsigned long long)opts.wait_ms);
            return EXIT_NO_TRACER;
        }
    }

    while (!opts.start_file.empty() && access(opts.start_file.c_str(), F_OK) != 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }

    CConnman connman;
    connman.AddNode(0, "203.0.113.7:8333", ConnectionType::INBOUND, NET_IPV4);
    connman.AddNode(1, "[2001:db8:85a3::8a2e:370:7334]:8333", ConnectionType::OUTBOUND_FULL_RELAY, NET_IPV6);
    // 56 characters, ".onion" and a five-digit port: 68 characters, the
    // longest address minid passes.
    connman.AddNode(2, "usdtkitdemo2minid3tracepoint4probe5semaphore6notes7argsx.onion:18444", ConnectionType::BLOCK_RELAY, NET_ONION);
    PeerManager peerman{connman};
    CTxMemPool mempool;
    Chainstate chainstate{mempool};

    for (uint64_t i{0}; opts.iterations == 0 || i < opts.iterations; ++i) {
        if (i > 0 && opts.interval_ms > 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds{opts.interval_ms});
        }
        RunIteration(i, connman, peerman, chainstate);
    }
    return 0;
}
