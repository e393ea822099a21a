// Internal to the JSON-lines importer and exporter: the names both sides agree on
// (docs/trace-format.md, "JSON-lines format").
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "memlife/event.hpp"

namespace memlife::data::jsonl {

inline constexpr std::array<std::string_view, 2> kScopeNames{"session", "request"};
inline constexpr std::array<std::string_view, 4> kOriginNames{"alloc_mem", "alloc_request", "noted",
                                                              "guarded"};

// Kinds whose flags byte is an AllocOrigin (written as "origin"); the others write "flags".
inline bool has_origin(EventKind kind) {
    return kind == EventKind::Alloc || kind == EventKind::Release || kind == EventKind::Leak;
}

inline std::optional<AllocOrigin> origin_from_name(std::string_view name) {
    for (std::size_t i = 0; i < kOriginNames.size(); ++i)
        if (kOriginNames[i] == name) return static_cast<AllocOrigin>(i);
    return std::nullopt;
}

inline std::string_view origin_name(std::uint8_t flags) {
    return flags < kOriginNames.size() ? kOriginNames[flags] : std::string_view();
}

} // namespace memlife::data::jsonl
