// libFuzzer target: the nginx debug-log importer on arbitrary bytes, strict and lenient.
// Any input must end in stats or an ImportError, never a crash or a sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "memlife/data/import.hpp"

namespace {

class DiscardSink : public memlife::EventSink {
public:
    void on_event(const memlife::Event&) noexcept override {}
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    DiscardSink sink;
    for (bool lenient : {false, true}) {
        memlife::data::ImportOptions options;
        options.lenient = lenient;
        try {
            memlife::data::import_nginx_buffer(text, sink, options, "fuzz.log");
        } catch (const memlife::data::ImportError&) {
        }
    }
    return 0;
}
