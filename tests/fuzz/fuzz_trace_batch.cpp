// libFuzzer target: the decoders of a trace's BLOB columns on arbitrary bytes, the way a
// hostile trace file reaches them. Byte 0 picks the decoder (even: an event batch, odd: a
// request batch); the rest is the BLOB. Decoding must end (with events or an error), never
// crash, read out of bounds or overflow undefinedly.
//
// Whatever decodes must also survive a round trip through the encoder: encoding the decoded
// events again (with their sequence numbers) and decoding gives back the same events.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "codec.hpp"

using namespace memlife;
using namespace memlife::data;

namespace {

constexpr std::uint64_t kSession = 7, kFirstNs = 1'000'000, kFirstSeq = 1;

struct Decoded {
    std::vector<Event> events;
    std::vector<std::uint64_t> seqs;
    bool error = false;
};

Decoded decode(const std::uint8_t* data, std::size_t size) {
    Decoded out;
    codec::EventDecoder decoder(data, size, kSession, kFirstNs, kFirstSeq);
    Event e;
    std::uint64_t seq = 0;
    while (decoder.next(e, seq) && out.events.size() < 100'000) {
        out.events.push_back(e);
        out.seqs.push_back(seq);
    }
    out.error = decoder.error();
    return out;
}

// The round trip starts where the decoder started (the row's first time and sequence).
bool round_trip_applies(const Decoded& d) {
    return !d.error && !d.events.empty() && d.seqs.front() == kFirstSeq &&
           d.events.front().time_ns == kFirstNs;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t* blob = data + 1;
    const std::size_t length = size - 1;
    if ((data[0] & 1) != 0) {
        std::vector<RequestRow> rows;
        codec::decode_requests(blob, length, kSession, rows);
        return 0;
    }
    const Decoded first = decode(blob, length);
    if (!round_trip_applies(first)) return 0;
    codec::EventEncoder encoder;
    encoder.start(first.events.front().time_ns, first.seqs.front());
    for (std::size_t i = 0; i < first.events.size(); ++i)
        encoder.add(first.events[i], first.seqs[i]);
    const Decoded second = decode(encoder.data(), encoder.size());
    if (second.error || second.events.size() != first.events.size() || second.seqs != first.seqs)
        std::abort();
    for (std::size_t i = 0; i < first.events.size(); ++i)
        if (std::memcmp(&first.events[i], &second.events[i], sizeof(Event)) != 0) std::abort();
    return 0;
}
