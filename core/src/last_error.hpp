// The thread-local last error behind ml_last_error().
#pragma once

#include <cstddef>

namespace memlife::detail {

void set_last_error(int code) noexcept;
int last_error() noexcept;

// Sets the last error and returns the code, so that a failing call reads `return fail(X);`.
inline int fail(int code) noexcept {
    set_last_error(code);
    return code;
}
// The same for the calls that fail with a null pointer.
inline std::nullptr_t fail_null(int code) noexcept {
    set_last_error(code);
    return nullptr;
}

} // namespace memlife::detail
