// Tail signatures: generated and compared on the allocation hot path, so kept inline.
//
// The pattern (docs/architecture.md, "Tail signatures"): with
//   salt = splitmix64(session + 0x6A09E667F3BCC909)       (once per session)
//   h    = salt ^ (block * 0x9E3779B97F4A7C15)             (once per block)
// tail word j (8 bytes, little-endian) is
//   (rotl(h, 13 * j mod 64) ^ (j * 0xD1B54A32D192ED03)) | 0x0101010101010101
// so it differs between blocks and sessions (a tail copied from another block does not
// match), and no byte is ever zero (an overrun by a string terminator is always caught).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace memlife::detail {

inline std::uint64_t splitmix64(std::uint64_t x) noexcept {
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

inline std::uint64_t tail_salt(std::uint64_t session) noexcept {
    return splitmix64(session + 0x6A09E667F3BCC909ull);
}

inline std::uint64_t tail_seed(std::uint64_t salt, std::uint64_t block) noexcept {
    return salt ^ (block * 0x9E3779B97F4A7C15ull);
}

inline std::uint64_t tail_word(std::uint64_t seed, std::uint32_t j) noexcept {
    return (std::rotl(seed, static_cast<int>((13 * j) & 63)) ^ (j * 0xD1B54A32D192ED03ull)) |
           0x0101010101010101ull;
}

inline void fill_tail(std::uint64_t seed, std::uint8_t* out, std::uint32_t length) noexcept {
    if (length == 16) [[likely]] { // the default length, unrolled
        const std::uint64_t w[2] = {tail_word(seed, 0), tail_word(seed, 1)};
        std::memcpy(out, w, 16);
        return;
    }
    std::uint32_t j = 0;
    for (; length >= 8; length -= 8, out += 8, ++j) {
        const std::uint64_t w = tail_word(seed, j);
        std::memcpy(out, &w, 8);
    }
    if (length != 0) {
        const std::uint64_t w = tail_word(seed, j);
        std::memcpy(out, &w, length); // little-endian: the low bytes first
    }
}

// True when `tail` holds the signature.
inline bool tail_intact(std::uint64_t seed, const std::uint8_t* tail,
                        std::uint32_t length) noexcept {
    if (length == 16) [[likely]] {
        std::uint64_t w[2];
        std::memcpy(w, tail, 16);
        return ((w[0] ^ tail_word(seed, 0)) | (w[1] ^ tail_word(seed, 1))) == 0;
    }
    std::uint32_t j = 0;
    for (; length >= 8; length -= 8, tail += 8, ++j) {
        std::uint64_t w;
        std::memcpy(&w, tail, 8);
        if (w != tail_word(seed, j)) return false;
    }
    if (length != 0) {
        const std::uint64_t w = tail_word(seed, j);
        if (std::memcmp(tail, &w, length) != 0) return false;
    }
    return true;
}

} // namespace memlife::detail
