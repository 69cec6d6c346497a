/* x86-64 operand forms the compiler does not choose by itself, in notes
 * written by hand: high-byte registers, every SIB variant, symbols with
 * offsets and indexes, and a call site on a 5-byte nop (which Linux may
 * turn into a call to its uprobe trampoline). The registers are loaded
 * with known values right before each probe; the program prints the
 * values the arguments should decode to, as operands.c does, and "x" for
 * an argument no uprobe can read.
 *
 * Usage: handwritten [iterations] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))
#define S(x) ((long long)(x))
#define U(x) ((unsigned long long)(x))
#define P(x) ((unsigned long long)(uintptr_t)(x))

#define NOTE(nop, name, args)                                                          \
	"990: " nop "\n"                                                               \
	".pushsection .note.stapsdt,\"?\",\"note\"\n"                                  \
	".balign 4\n"                                                                  \
	".4byte 992f-991f, 994f-993f, 3\n"                                             \
	"991: .asciz \"stapsdt\"\n"                                                    \
	"992: .balign 4\n"                                                             \
	"993: .8byte 990b\n"                                                           \
	".8byte _.stapsdt.base\n"                                                      \
	".8byte 0\n"                                                                   \
	".asciz \"hw\"\n"                                                              \
	".asciz \"" name "\"\n"                                                        \
	".asciz \"" args "\"\n"                                                        \
	"994: .balign 4\n"                                                             \
	".popsection\n"                                                                \
	".ifndef _.stapsdt.base\n"                                                     \
	".pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n"        \
	".weak _.stapsdt.base\n"                                                       \
	".hidden _.stapsdt.base\n"                                                     \
	"_.stapsdt.base: .space 1\n"                                                   \
	".size _.stapsdt.base, 1\n"                                                    \
	".popsection\n"                                                                \
	".endif\n"

long sym[4] = {-11, 22, -33, 44};
long arr[8] = {-1000, 1001, -1002, 1003, -1004, 1005, -1006, 1007};
uint32_t word = 0xfedcba98;
extern const unsigned char nop5_site[];

NOINLINE void highbytes(unsigned long a, unsigned long b, unsigned long c, unsigned long d,
                        unsigned long r8, unsigned long r9, unsigned long r10, unsigned long si) {
	__asm__ __volatile__(
		"mov %0, %%rax\n"
		"mov %1, %%rbx\n"
		"mov %2, %%rcx\n"
		"mov %3, %%rdx\n"
		"mov %4, %%r8\n"
		"mov %5, %%r9\n"
		"mov %6, %%r10\n"
		"mov %7, %%rsi\n"
		NOTE("nop", "highbytes", "1@%%ah -1@%%bh 1@%%ch -1@%%dh 2@%%r8w -1@%%r9b -4@%%r10d 1@%%sil -2@%%ax 8@%%rbx")
		:
		: "m"(a), "m"(b), "m"(c), "m"(d), "m"(r8), "m"(r9), "m"(r10), "m"(si)
		: "rax", "rbx", "rcx", "rdx", "r8", "r9", "r10", "rsi", "memory");
	printf("highbytes\t%llu\t%lld\t%llu\t%lld\t%llu\t%lld\t%lld\t%llu\t%lld\t%llu\n",
	       U((uint8_t)(a >> 8)), S((int8_t)(b >> 8)), U((uint8_t)(c >> 8)), S((int8_t)(d >> 8)),
	       U((uint16_t)r8), S((int8_t)r9), S((int32_t)r10), U((uint8_t)si), S((int16_t)a), U(b));
}

NOINLINE void sib(long i) {
	unsigned long scaled = ((uintptr_t)&arr[3] + 8) / 4;
	__asm__ __volatile__(
		"mov %0, %%rax\n"
		"mov $8, %%rbx\n"
		"mov %1, %%rcx\n"
		"mov %0, %%rdx\n"
		"mov $2, %%rsi\n"
		"mov %2, %%rdi\n"
		"mov %3, %%r8\n"
		NOTE("nop", "sib", "8@(%%rax,%%rbx) 8@8(%%rax,%%rbx) -8@-8(,%%rcx,4) -8@16(%%rdx,%%rsi,8) 4@(%%rdi) 4@-4(%%rdi,%%rsi,2) -8@(%%rax,%%r8,8)")
		:
		: "r"(arr), "m"(scaled), "r"(&word), "m"(i)
		: "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "memory");
	printf("sib\t%llu\t%llu\t%lld\t%lld\t%llu\t%llu\t%lld\n", U(arr[1]), U(arr[2]), S(arr[3]), S(arr[4]), U(word), U(word), S(arr[i]));
}

NOINLINE void symbols(long i) {
	__asm__ __volatile__(
		"mov %0, %%rcx\n"
		NOTE("nop", "symbols", "-8@sym+8(%%rip) 8@8+sym(%%rip) 8@$sym 8@$sym+16 -8@sym(,%%rcx,8) -8@sym -4f@%%xmm1 8@%%fs:8")
		:
		: "m"(i)
		: "rcx", "memory");
	printf("symbols\t%lld\t%llu\t%llu\t%llu\t%lld\t%lld\tx\tx\n", S(sym[1]), U(sym[1]), P(sym), P(sym) + 16, S(sym[i]), S(sym[0]));
}

/* A call site on a 5-byte nop, with operands that need the load bias. */
NOINLINE void nop5(long i) {
	__asm__ __volatile__(
		"mov %0, %%rdi\n"
		".globl nop5_site\n"
		"nop5_site:\n"
		NOTE(".byte 0x0f, 0x1f, 0x44, 0x00, 0x00", "nop5", "-8@%%rdi -8@sym+24(%%rip) 8@$sym")
		:
		: "m"(i)
		: "rdi", "memory");
	printf("nop5\t%lld\t%lld\t%llu\n", S(i), S(sym[3]), P(sym));
}

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 1;
	for (long i = 0; i < n; i++) {
		highbytes(0x1122334455667788UL + i, 0xfedcba9876543210UL, 0xa5a5UL << 0, 0x8000UL + (i << 8),
		          0xffff1234UL, 0x80UL + i, 0x80000000UL + i, 0x1ffUL);
		sib(i % 8);
		symbols(i % 4);
		nop5(i);
	}
	fflush(stdout);
	fprintf(stderr, "nop5 site: %02x %02x %02x %02x %02x\n", nop5_site[0], nop5_site[1], nop5_site[2], nop5_site[3], nop5_site[4]);
	return 0;
}
