/* Semaphore-guarded tracepoints in Bitcoin Core's style, with strings and
 * byte buffers. A tracepoint fires, and its values are printed as in
 * operands.c, only while a tracer has raised its semaphore.
 *
 * Usage: semaphores N      run N iterations
 *        semaphores -i     run one iteration per line read from stdin and
 *                          print "end" and the block_connected semaphore
 *                          after each */
#define SDT_USE_VARIADIC
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRACEPOINT_SEMAPHORE(context, event) \
	unsigned short context##_##event##_semaphore __attribute__((section(".probes")))
#define TRACEPOINT_ACTIVE(context, event) (context##_##event##_semaphore > 0)

TRACEPOINT_SEMAPHORE(net, inbound_message);
TRACEPOINT_SEMAPHORE(validation, block_connected);
TRACEPOINT_SEMAPHORE(mempool, added);

#define NOINLINE __attribute__((noinline))
#define S(x) ((long long)(x))
#define U(x) ((unsigned long long)(x))

static void hex(const unsigned char *p, size_t n) {
	putchar('\t');
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

/* Read as: id, addr string, conn string, type string, size, msg bytes
 * of length arg 5 (capped at 1024). */
NOINLINE void inbound(int64_t id, const char *addr, const char *conn, const char *type, const unsigned char *msg, uint64_t size) {
	if (TRACEPOINT_ACTIVE(net, inbound_message)) {
		STAP_PROBEV(net, inbound_message, id, addr, conn, type, size, msg);
		printf("inbound_message\t%lld\t%s\t%s\t%s\t%llu", S(id), addr, conn, type, U(size));
		hex(msg, size < 1024 ? size : 1024);
		puts(size > 1024 ? "..." : "");
	}
}

/* Read as: 32-byte hash, then integers. */
NOINLINE void connect(const unsigned char *hash, int32_t height, uint64_t txs, int32_t ins, uint64_t sigops, int64_t ns) {
	if (TRACEPOINT_ACTIVE(validation, block_connected)) {
		STAP_PROBEV(validation, block_connected, hash, height, txs, ins, sigops, ns);
		fputs("block_connected", stdout);
		hex(hash, 32);
		printf("\t%lld\t%llu\t%lld\t%llu\t%lld\n", S(height), U(txs), S(ins), U(sigops), S(ns));
	}
}

/* Inlined at two call sites. Read as: 32-byte txid, then integers. */
static inline __attribute__((always_inline)) void added(const unsigned char *txid, int32_t vsize, int64_t fee) {
	if (TRACEPOINT_ACTIVE(mempool, added)) {
		STAP_PROBEV(mempool, added, txid, vsize, fee);
		fputs("added", stdout);
		hex(txid, 32);
		printf("\t%lld\t%lld\n", S(vsize), S(fee));
	}
}
NOINLINE void add_one(const unsigned char *txid, long i) { added(txid, 250 + (int32_t)i, 1000 * i); }
NOINLINE void add_two(const unsigned char *txid, long i) { added(txid + 1, -(int32_t)i, -7 * i); }

static unsigned char hash[64];
static unsigned char msg[2048];

static void iteration(long i) {
	static const char *types[] = {"inv", "tx", "block", "headers"};
	char addr[64];
	snprintf(addr, sizeof addr, "[2001:db8::%lx]:8333", i);
	hash[0] = (unsigned char)i;
	inbound(i, addr, "outbound-full-relay", types[i % 4], msg + i, i % 2 ? 5 + i : 1500);
	connect(hash, 100 + (int32_t)i, 2, -3, 4, 5000 + i);
	add_one(hash, i);
	add_two(hash, i);
}

int main(int argc, char **argv) {
	for (size_t i = 0; i < sizeof hash; i++)
		hash[i] = (unsigned char)(0xa0 + i);
	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = (unsigned char)(i * 7);
	if (argc > 1 && strcmp(argv[1], "-i") == 0) {
		char line[64];
		for (long i = 0; fgets(line, sizeof line, stdin); i++) {
			iteration(i);
			printf("end\t%u\n", validation_block_connected_semaphore);
			fflush(stdout);
		}
		return 0;
	}
	long n = argc > 1 ? atol(argv[1]) : 1;
	for (long i = 0; i < n; i++)
		iteration(i);
	fflush(stdout);
	return 0;
}
