#include "standalone.hpp"

namespace memlife::preload {

const char* start_standalone_receiver() noexcept {
    return nullptr;
}

void finish_standalone() noexcept {}

} // namespace memlife::preload
