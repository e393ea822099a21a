#include "teaching/teachingexample.hpp"

#include <QCoreApplication>

#include <algorithm>
#include <cstring>

#include "memlife/filter_host.hpp"
#include "memlife/session.hpp"

namespace memlife::ui {

namespace {

QString tr(const char* text) {
    return QCoreApplication::translate("memlife::ui::Teaching", text);
}

// Collects the example's events; the example runs on one thread, so no lock.
class CapturingSink : public EventSink {
public:
    void on_event(const Event& event) noexcept override {
        try {
            events.push_back(event);
        } catch (...) { // on_event must not throw; a lost event only shortens the lesson
        }
    }
    std::vector<Event> events;
};

} // namespace

RequestShape Example::shape() {
    RequestShape shape;
    shape.raw_reads = 1;
    shape.url_maps = 2;
    shape.authentication = true;
    shape.body_reads = 0;
    shape.raw_sends = 2;
    return shape;
}

std::vector<Event> exampleEvents(ExampleMemory memory, std::uint32_t requests) {
    CapturingSink sink;
    {
        Runtime runtime(Config{}, &sink);
        FilterHost host(runtime);
        const std::uint32_t wanted = ML_NOTIFY_AUTHENTICATION | ML_NOTIFY_URL_MAP |
                                     ML_NOTIFY_SEND_RESPONSE | ML_FILTER_ORDER_DEFAULT;
        host.add_filter("url-copy", wanted, [memory](FilterContext& ctx) {
            switch (ctx.notification) {
            case Notification::Authentication: // valid for the whole connection: AllocMem
                ctx.connection_context = ctx.session.alloc_mem(Example::kUserNameBytes);
                break;
            case Notification::UrlMap: {
                auto* copy =
                    static_cast<char*>(memory == ExampleMemory::Session
                                           ? ctx.session.alloc_mem(Example::kUrlCopyBytes)
                                           : ctx.session.alloc_request(Example::kUrlCopyBytes));
                if (copy && ctx.http) {
                    const std::size_t n =
                        std::min<std::size_t>(ctx.http->url.size(), Example::kUrlCopyBytes - 1);
                    std::memcpy(copy, ctx.http->url.data(), n);
                    copy[n] = '\0';
                }
                break;
            }
            case Notification::SendResponse:
                ctx.session.alloc_request(Example::kScratchBytes);
                break;
            default:
                break;
            }
            return FilterStatus::NextNotification;
        });
        host.set_handler([](const Request& request, Response& response) {
            response.body = "content of " + request.url + "\n";
        });
        Session* session = host.open_session("192.0.2.10:50000");
        if (session == nullptr) return {};
        const RequestShape shape = Example::shape();
        static const char* const urls[] = {"/index.html", "/style.css", "/logo.png"};
        for (std::uint32_t i = 0; i < requests; ++i) {
            Request request;
            request.url = urls[i % 3];
            request.raw = "GET " + request.url + " HTTP/1.1\r\nHost: example.test\r\n\r\n";
            request.raw_reads = shape.raw_reads;
            request.url_maps = shape.url_maps;
            request.body_reads = shape.body_reads;
            request.raw_sends = shape.raw_sends;
            host.run_request(*session, request);
        }
        host.end_session(*session);
    }
    return std::move(sink.events);
}

TeachingScript exampleScript(ExampleMemory memory) {
    TeachingScript script = buildScript(exampleEvents(memory));
    script.title =
        memory == ExampleMemory::Session
            ? tr("Built-in example: %1 keep-alive requests; the filter copies the URL with "
                 "AllocMem (connection memory)")
                  .arg(Example::kRequests)
            : tr("Built-in example, what if: the filter copies the URL with request memory");
    return script;
}

std::vector<std::uint64_t> liveBytesAtRequestEnds(const std::vector<Event>& events) {
    ScriptOptions everything;
    everything.maxRequests = UINT32_MAX;
    everything.maxEvents = UINT64_MAX;
    std::vector<std::uint64_t> ends;
    for (const TeachingStep& step : buildScript(events, everything).steps)
        if (step.kind == StepKind::RequestEnd) ends.push_back(step.liveBytes());
    return ends;
}

} // namespace memlife::ui
