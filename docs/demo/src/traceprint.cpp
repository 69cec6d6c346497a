#include <traceprint.h>

#include <cstdio>

bool g_print_tracepoints{false};

TracePrint::TracePrint(const char* context, const char* event)
    : m_enabled{g_print_tracepoints}
{
    if (!m_enabled) return;
    m_line.append(context).append(":").append(event);
}

void TracePrint::Key()
{
    m_line.append(" arg").append(std::to_string(m_next_arg++)).append("=");
}

TracePrint& TracePrint::Int(int64_t value)
{
    if (!m_enabled) return *this;
    Key();
    m_line.append(std::to_string(value));
    return *this;
}

TracePrint& TracePrint::Uint(uint64_t value)
{
    if (!m_enabled) return *this;
    Key();
    m_line.append(std::to_string(value));
    return *this;
}

TracePrint& TracePrint::Bool(bool value)
{
    if (!m_enabled) return *this;
    Key();
    m_line.append(value ? "1" : "0");
    return *this;
}

// Quotes like Go's %q does for ASCII text.
TracePrint& TracePrint::Str(const char* value)
{
    if (!m_enabled) return *this;
    Key();
    static constexpr char HEX[]{"0123456789abcdef"};
    m_line.push_back('"');
    for (const char* p{value}; *p; ++p) {
        const unsigned char c{static_cast<unsigned char>(*p)};
        switch (c) {
        case '"': m_line.append("\\\""); break;
        case '\\': m_line.append("\\\\"); break;
        case '\a': m_line.append("\\a"); break;
        case '\b': m_line.append("\\b"); break;
        case '\f': m_line.append("\\f"); break;
        case '\n': m_line.append("\\n"); break;
        case '\r': m_line.append("\\r"); break;
        case '\t': m_line.append("\\t"); break;
        case '\v': m_line.append("\\v"); break;
        default:
            if (c >= 0x20 && c < 0x7f) {
                m_line.push_back(static_cast<char>(c));
            } else {
                m_line.append("\\x").push_back(HEX[c >> 4]);
                m_line.push_back(HEX[c & 0xf]);
            }
        }
    }
    m_line.push_back('"');
    return *this;
}

TracePrint& TracePrint::Hex(const unsigned char* data, size_t size)
{
    if (!m_enabled) return *this;
    Key();
    static constexpr char HEX[]{"0123456789abcdef"};
    for (size_t i{0}; i < size; ++i) {
        m_line.push_back(HEX[data[i] >> 4]);
        m_line.push_back(HEX[data[i] & 0xf]);
    }
    return *this;
}

void TracePrint::Emit()
{
    if (!m_enabled) return;
    m_line.push_back('\n');
    std::fwrite(m_line.data(), 1, m_line.size(), stdout);
    std::fflush(stdout);
}
