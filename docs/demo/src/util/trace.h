// Tracepoint macros for minid, the usdtkit demo node. They follow the
// interface of Bitcoin Core's src/util/trace.h, so that what usdtkit does
// with minid it does with bitcoind.

#ifndef MINID_UTIL_TRACE_H
#define MINID_UTIL_TRACE_H

#ifdef ENABLE_TRACING

// Ask <sys/sdt.h> for STAP_PROBEV, the variadic form of the probe macros.
#define SDT_USE_VARIADIC 1

// Ask <sys/sdt.h> to record a semaphore address in every probe note. A tracer
// (bpftrace, bcc, libbpf, usdtkit) increments the semaphore while it is
// attached, which lets the code skip preparing arguments nobody reads.
#define _SDT_HAS_SEMAPHORES 1

// Defines the semaphore of the tracepoint context:event. It must be a global
// in the top-level namespace, named context_event_semaphore, because that is
// the symbol <sys/sdt.h> puts in the probe note, and it lives in the
// ".probes" section where tracers expect it. Use it once per tracepoint, at
// the top of the file that fires the tracepoint.
#define TRACEPOINT_SEMAPHORE(context, event) \
    unsigned short context##_##event##_semaphore __attribute__((section(".probes")))

#include <sys/sdt.h>

// True while at least one tracer is attached to context:event.
#define TRACEPOINT_ACTIVE(context, event) (context##_##event##_semaphore > 0)

// Fires the tracepoint context:event with up to twelve arguments. The
// arguments are evaluated only while a tracer is attached.
#define TRACEPOINT(context, event, ...)                                \
    do {                                                               \
        if (TRACEPOINT_ACTIVE(context, event)) {                       \
            STAP_PROBEV(context, event __VA_OPT__(, ) __VA_ARGS__);    \
        }                                                              \
    } while (0)

#else // ENABLE_TRACING

#define TRACEPOINT_SEMAPHORE(context, event)
#define TRACEPOINT_ACTIVE(context, event) false
#define TRACEPOINT(context, ...)

#endif // ENABLE_TRACING

#endif // MINID_UTIL_TRACE_H
