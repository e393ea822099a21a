// Symbolization: the addresses of a trace's call stacks turned into functions, source files,
// lines and inlined frames, from the binaries' debug information (elfutils libdw). The
// recorder does it when recording stops; `memlife symbolize` does it later, for a trace
// recorded where the binaries or their debug files were not at hand.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace memlife::data {

struct SymbolizeOptions {
    // Where separate debug files are looked for, before the standard places (next to the
    // binary, its .debug folder, /usr/lib/debug): by build id (DIR/.build-id/xx/yyyy.debug)
    // and by the binary's .gnu_debuglink name (DIR/NAME, DIR/<the binary's folder>/NAME).
    std::vector<std::string> debug_dirs;
};

struct SymbolizeResult {
    std::uint64_t modules = 0;            // modules that stack addresses point into
    std::uint64_t modules_with_lines = 0; // of those, symbolized from debug information
    std::uint64_t addresses = 0;          // distinct stack addresses looked at
    std::uint64_t addresses_with_lines = 0;
    // One line per module left without source lines: "PATH (build id ID): reason".
    std::vector<std::string> problems;
};

// Symbolizes the trace at `path` in place, atomically (a symbolized copy is renamed over
// it; an interruption leaves the trace as it was). Modules symbolized from debug
// information before are kept; the others are tried again (with `options.debug_dirs`).
// A trace without stacks is left alone. Throws TraceError (the file is not a usable
// trace, or cannot be written).
SymbolizeResult symbolize_trace(const std::string& path, const SymbolizeOptions& options = {});

} // namespace memlife::data
