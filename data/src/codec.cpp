#include "codec.hpp"

namespace memlife::data::codec {

void encode_requests(const std::vector<RequestRow>& rows, std::vector<std::uint8_t>& out) {
    out.clear();
    Writer w(out);
    RequestRow previous;
    for (const RequestRow& r : rows) {
        w.reserve(9 * 10);
        w.varint(r.number - previous.number - 1);
        w.varint(zigzag_delta(r.begin_ns, previous.begin_ns));
        w.varint(r.end_ns == 0 ? 0 : r.end_ns - r.begin_ns + 1);
        w.varint(zigzag_delta(r.live_bytes_at_end, previous.live_bytes_at_end));
        w.varint(zigzag_delta(r.peak_bytes, r.live_bytes_at_end));
        w.varint(r.blocks);
        w.varint(r.released_bytes);
        w.varint(r.corruptions);
        w.varint(r.leaks);
        previous = r;
    }
}

bool decode_requests(const std::uint8_t* data, std::size_t size, std::uint64_t session,
                     std::vector<RequestRow>& out) {
    Reader in(data, size);
    RequestRow previous;
    while (!in.at_end()) {
        RequestRow r;
        r.session = session;
        r.number = static_cast<std::uint32_t>(previous.number + in.varint() + 1);
        r.begin_ns = previous.begin_ns + static_cast<std::uint64_t>(unzigzag(in.varint()));
        const std::uint64_t end = in.varint();
        r.end_ns = end == 0 ? 0 : r.begin_ns + end - 1;
        r.live_bytes_at_end =
            previous.live_bytes_at_end + static_cast<std::uint64_t>(unzigzag(in.varint()));
        r.peak_bytes = r.live_bytes_at_end + static_cast<std::uint64_t>(unzigzag(in.varint()));
        r.blocks = in.varint();
        r.released_bytes = in.varint();
        r.corruptions = in.varint();
        r.leaks = in.varint();
        if (!in.ok()) return false;
        out.push_back(r);
        previous = r;
    }
    return true;
}

} // namespace memlife::data::codec
