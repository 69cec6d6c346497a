// Start-up of a small node: one of the source trees usdtkit's tests
// scaffold tracepoints into, one per generation of tracepoint macros.

#ifndef NODE_INIT_H
#define NODE_INIT_H

#include <string>

//! Brings the node up with a chain of the given height; false when it
//! cannot.
bool AppInitMain(int height, const std::string& name);

#endif // NODE_INIT_H
