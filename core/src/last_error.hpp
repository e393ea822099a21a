// The thread-local last error behind ml_last_error().
#pragma once

namespace memlife::detail {

void set_last_error(int code) noexcept;
int last_error() noexcept;

} // namespace memlife::detail
