// Tracepoint macros of the second generation: one TRACEPOINT for any number
// of arguments, a STAP_PROBEV of <sys/sdt.h>, and no semaphores: the
// arguments are evaluated whether or not a tracer is attached. Written for
// usdtkit's tests; only the macro's name follows Bitcoin Core's
// util/trace.h of that time.

#ifndef NODE_UTIL_TRACE_H
#define NODE_UTIL_TRACE_H

#ifdef ENABLE_TRACING

// <sys/sdt.h> defines STAP_PROBEV only when asked to.
#define SDT_USE_VARIADIC 1

#include <sys/sdt.h>

// TRACEPOINT(context, event, args...) with zero to twelve arguments.
#define TRACEPOINT(context, ...) STAP_PROBEV(context, __VA_ARGS__)

#else // ENABLE_TRACING

#define TRACEPOINT(context, ...)

#endif // ENABLE_TRACING

#endif // NODE_UTIL_TRACE_H
