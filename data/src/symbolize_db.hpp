// Symbolization of an open trace database (the recorder's, when recording stops; a copy,
// for memlife symbolize). See memlife/data/symbolize.hpp.
#pragma once

#include <sqlite3.h>

#include "memlife/data/symbolize.hpp"

namespace memlife::data {

// Writes the frames of the stack addresses of every module not yet symbolized from debug
// information, in one transaction. Throws store::SqlError.
SymbolizeResult symbolize_database(sqlite3* db, const SymbolizeOptions& options);

} // namespace memlife::data
