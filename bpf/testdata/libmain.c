/* Calls the tracepoints of libtp.so.
 *
 * Usage: libmain [iterations] */
#include <stdio.h>
#include <stdlib.h>

long lib_step(long x);
void lib_hello(const char *who);
void lib_guard(long x);

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 1;
	for (long i = 0; i < n; i++) {
		lib_step(i);
		lib_hello(i % 2 ? "world" : "library");
		lib_guard(-i);
	}
	fflush(stdout);
	return 0;
}
