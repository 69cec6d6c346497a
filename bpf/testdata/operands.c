/* Tracepoints with every operand form gcc emits. After each tracepoint the
 * program prints the values its arguments should decode to, one line per
 * hit: the name, then one tab-separated field per argument. Integers are
 * printed in decimal by the signedness of the argument, floats as their
 * IEEE 754 bits, strings as they are, buffers in hex, and a read that
 * must fail as "ERR:<errno name>".
 *
 * Usage: operands [iterations] */
#include <sys/sdt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long glob64 = 0x1122334455667788L;
int glob32 = -42;
static short sglob16 = -7;
unsigned char gbytes[40] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
                            21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40};
long garr[8] = {10, 20, 30, 40, 50, 60, 70, 80};
__thread long tls64 = 99;

#define NOINLINE __attribute__((noinline))
#define S(x) ((long long)(x))
#define U(x) ((unsigned long long)(x))
#define P(x) ((unsigned long long)(uintptr_t)(x))

static void hex(const unsigned char *p, size_t n) {
	putchar('\t');
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

NOINLINE void regs(long a, int b, short c, signed char d, unsigned long e, unsigned int f, unsigned short g, unsigned char h) {
	DTRACE_PROBE8(test, regs, a, b, c, d, e, f, g, h);
	printf("regs\t%lld\t%lld\t%lld\t%lld\t%llu\t%llu\t%llu\t%llu\n", S(a), S(b), S(c), S(d), U(e), U(f), U(g), U(h));
}

NOINLINE void consts(void) {
	DTRACE_PROBE4(test, consts, 7, -9, (signed char)-1, (unsigned char)200);
	printf("consts\t7\t-9\t-1\t200\n");
}

NOINLINE void globals(void) {
	DTRACE_PROBE3(test, globals, glob64, glob32, sglob16);
	printf("globals\t%lld\t%lld\t%lld\n", S(glob64), S(glob32), S(sglob16));
}

NOINLINE void addrs(void) {
	DTRACE_PROBE2(test, addrs, &glob64, gbytes);
	printf("addrs\t%llu\t%llu\n", P(&glob64), P(gbytes));
}

NOINLINE void array(int i) {
	DTRACE_PROBE1(test, array, garr[i]);
	printf("array\t%lld\n", S(garr[i]));
}

NOINLINE void tls(void) {
	DTRACE_PROBE1(test, tls, tls64);
	printf("tls\t%lld\n", S(tls64));
}

NOINLINE void sib(int i) {
	volatile long arr[8];
	for (int j = 0; j < 8; j++)
		arr[j] = j * j - 103;
	DTRACE_PROBE1(test, sib, arr[i]);
	printf("sib\t%lld\n", S(arr[i]));
}

NOINLINE void floats(float f, double d, signed char c) {
	uint32_t fb;
	uint64_t db;
	memcpy(&fb, &f, sizeof fb);
	memcpy(&db, &d, sizeof db);
	STAP_PROBE3(test, floats, f, d, c);
	printf("floats\t%llu\t%llu\t%lld\n", U(fb), U(db), S(c));
}

NOINLINE void twelve(long x) {
	STAP_PROBE12(test, twelve, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, x);
	printf("twelve\t1\t2\t3\t4\t5\t6\t7\t8\t9\t10\t11\t%lld\n", S(x));
}

/* Read as: arg1 string (64), arg2 integer. */
NOINLINE void str(const char *s, long n) {
	DTRACE_PROBE2(test, str, s, n);
	printf("str\t%s\t%lld\n", s, S(n));
}

/* Read as: arg1 string of at most 8 bytes. */
NOINLINE void longstr(const char *s) {
	DTRACE_PROBE1(test, longstr, s);
	printf("longstr\t%.8s...\n", s);
}

/* Read as: arg1 string; the pointer is not mapped. */
NOINLINE void badstr(const char *s) {
	DTRACE_PROBE1(test, badstr, s);
	printf("badstr\tERR:EFAULT\n");
}

/* Read as: arg1 32 bytes, arg2 bytes of length arg3 capped at 16, arg3. */
NOINLINE void bufs(const unsigned char *hash, const unsigned char *msg, unsigned long len) {
	DTRACE_PROBE3(test, bufs, hash, msg, len);
	fputs("bufs", stdout);
	hex(hash, 32);
	hex(msg, len < 16 ? len : 16);
	if (len > 16)
		fputs("...", stdout);
	printf("\t%llu\n", U(len));
}

/* One tracepoint inlined at two call sites with different registers. */
static inline __attribute__((always_inline)) void inl(long a, long b) {
	DTRACE_PROBE2(test, inl, a, b);
	printf("inl\t%lld\t%lld\n", S(a), S(b));
}
NOINLINE long site_a(long x, long y) {
	inl(x * 3, y);
	return x + y;
}
NOINLINE long site_b(long x, long y) {
	long r = x ^ y;
	inl(y, r + 1);
	return r;
}

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 1;
	static const char words[] = "a string that is longer than eight bytes";
	for (long i = 0; i < n; i++) {
		regs(-1 - i, -2, -3, -4, 0xfffffffffffffff0UL - i, 4000000000U, 65000, 250);
		consts();
		globals();
		addrs();
		array((int)(i % 8));
		tls();
		sib((int)(i % 8));
		floats(1.5f + i, -2.25 * i, 'x');
		twelve(i);
		str(argv[0], i);
		longstr(words + (i % 4));
		badstr((const char *)8);
		bufs(gbytes, gbytes + 1 + i % 4, 10 + 3 * (i % 4));
		site_a(i, 2 * i);
		site_b(i, 3 * i);
	}
	fflush(stdout);
	return 0;
}
