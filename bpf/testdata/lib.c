/* A shared library with tracepoints: position-independent operands,
 * RIP-relative statics and a string; libguard.c adds a semaphore-guarded
 * one. Each tracepoint prints its values as operands.c does. */
#include <sys/sdt.h>
#include <stdio.h>

static long counter = 5;
static int level = -3;

__attribute__((noinline)) long lib_step(long x) {
	counter += x;
	DTRACE_PROBE3(lib, step, x, counter, level);
	printf("step\t%lld\t%lld\t%lld\n", (long long)x, (long long)counter, (long long)level);
	return counter;
}

/* Read as: arg1 string. */
__attribute__((noinline)) void lib_hello(const char *who) {
	DTRACE_PROBE1(lib, hello, who);
	printf("hello\t%s\n", who);
}
