// The --print output of minid: one line per tracepoint hit, written before
// the tracepoint fires, whether a tracer is attached or not. See main.cpp
// for the format.

#ifndef MINID_TRACEPRINT_H
#define MINID_TRACEPRINT_H

#include <cstddef>
#include <cstdint>
#include <string>

// Set by --print.
extern bool g_print_tracepoints;

// Builds one --print line. Add the arguments in the order the tracepoint
// passes them, then call Emit. Does nothing unless g_print_tracepoints is set.
class TracePrint
{
    std::string m_line;
    int m_next_arg{0};
    bool m_enabled;

    void Key();

public:
    TracePrint(const char* context, const char* event);

    TracePrint& Int(int64_t value);
    TracePrint& Uint(uint64_t value);
    TracePrint& Bool(bool value);
    TracePrint& Str(const char* value);
    TracePrint& Hex(const unsigned char* data, size_t size);

    // Writes the line and a newline to stdout and flushes it.
    void Emit();
};

#endif // MINID_TRACEPRINT_H
