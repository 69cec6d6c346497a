// Tracepoint macros of the third generation: every tracepoint has a
// semaphore, a counter that tracers raise while they are attached, and
// TRACEPOINT evaluates its arguments only while it is raised. Written for
// usdtkit's tests; only the macro names follow Bitcoin Core's util/trace.h
// of that time.

#ifndef NODE_UTIL_TRACE_H
#define NODE_UTIL_TRACE_H

#ifdef ENABLE_TRACING

// <sys/sdt.h> defines STAP_PROBEV, and puts a semaphore's address in each
// note, only when asked to.
#define SDT_USE_VARIADIC 1
#define _SDT_HAS_SEMAPHORES 1

// The semaphore of context:event, at file scope, once per tracepoint. Its
// name is the one <sys/sdt.h> writes into the note; tracers look for it in
// the .probes section.
#define TRACEPOINT_SEMAPHORE(context, event) \
    unsigned short context##_##event##_semaphore __attribute__((section(".probes")))

#include <sys/sdt.h>

#define TRACEPOINT_ACTIVE(context, event) (context##_##event##_semaphore > 0)

// TRACEPOINT(context, event, args...) with zero to twelve arguments,
// evaluated only while a tracer is attached.
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

#endif // NODE_UTIL_TRACE_H
