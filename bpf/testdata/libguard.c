/* The semaphore-guarded tracepoint of libtp.so (sdt.h enables semaphores
 * for a whole translation unit). */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
#include <stdio.h>

unsigned short lib_guarded_semaphore __attribute__((section(".probes")));

__attribute__((noinline)) void lib_guard(long x) {
	if (lib_guarded_semaphore) {
		DTRACE_PROBE1(lib, guarded, x);
		printf("guarded\t%lld\n", (long long)x);
	}
}
