#include "teaching/teachingtexts.hpp"

#include <QCoreApplication>
#include <QStringList>

#include <array>

#include "style/format.hpp"
#include "style/style.hpp"

namespace memlife::ui {

namespace {

QString tr(const char* text) {
    return QCoreApplication::translate("memlife::ui::Teaching", text);
}

struct LessonText {
    DiagramSlot slot;
    const char* name;
    const char* when;
    const char* filterMay;
    const char* memoryLives;
};

// Indexed by DiagramSlot. The notification rows say what AllocMem memory does there,
// because that is what the view teaches: it never ends with the request.
constexpr std::array<LessonText, kDiagramSlotCount> kLessons = {{
    {DiagramSlot::ConnectionOpen, QT_TRANSLATE_NOOP("memlife::ui::Teaching", "Connection opens"),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "A client connects. The connection (the filter's session, "
                       "HTTP_FILTER_CONTEXT) starts with no memory. With keep-alive it will "
                       "carry several requests, one after the other."),
     "",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Everything a filter allocates with AllocMem on this connection, in any "
                       "request, stays until the connection closes.")},
    {DiagramSlot::RequestBegin, QT_TRANSLATE_NOOP("memlife::ui::Teaching", "Request begins"),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "A new request starts on the same connection. Its request scope is "
                       "empty; the connection scope keeps what earlier requests left in it."),
     "",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Request memory taken from now on is released when this request ends.")},
    {DiagramSlot::ReadRawData, "READ_RAW_DATA",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "The server has read bytes from the client and not interpreted them yet: "
                       "first the request line and headers. It fires again when a filter asks "
                       "for more data (REQ_READ_NEXT)."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Look at or rewrite the raw bytes (decrypt, decompress, record the "
                       "traffic); return REQ_READ_NEXT to wait for more."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "AllocMem here lives until END_OF_NET_SESSION, not until the end of this "
                       "request; it fires for every request, so a buffer per read belongs in "
                       "request memory.")},
    {DiagramSlot::PreprocHeaders, "PREPROC_HEADERS",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "The headers are parsed but the server has not acted on them yet. Once "
                       "per request."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Read, add, change or remove request headers; rewrite the URL before it "
                       "is mapped."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "AllocMem: until the connection closes. A header copy needed for this "
                       "request only should use request memory.")},
    {DiagramSlot::UrlMap, "URL_MAP",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "The server maps the URL to a physical path. It may fire more than once "
                       "in one request (a default document, an include)."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Read the URL, change the physical path (send the request elsewhere)."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Each firing that calls AllocMem adds a block that stays until "
                       "END_OF_NET_SESSION. On a keep-alive connection this is how memory "
                       "piles up, request after request.")},
    {DiagramSlot::Authentication, "AUTHENTICATION",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Before the client is authenticated. With keep-alive only on the first "
                       "request of the connection; without keep-alive on every request."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Check or replace the user name and password: custom authentication."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Until END_OF_NET_SESSION. Here that is right: what is learnt (who the "
                       "user is) holds for the whole connection, and it is allocated once.")},
    {DiagramSlot::AuthComplete, "AUTH_COMPLETE",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "The client is authenticated; the server has not processed the request "
                       "yet. Once per request."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Read the user's identity, change headers, deny the request."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "AllocMem: until the connection closes. A per-request decision belongs "
                       "in request memory.")},
    {DiagramSlot::AccessDenied, "ACCESS_DENIED",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Only when the server refuses the request (401), before the response "
                       "goes out. A denied request's body is not read."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Replace the 401 page with its own, or record the failure."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "AllocMem: until the connection closes, even though the request "
                       "failed.")},
    {DiagramSlot::BodyRead, "READ_RAW_DATA (body)",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "A raw read after the headers: the request body. Zero or more times, "
                       "before SEND_RESPONSE."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Look at, rewrite or count the body bytes as they arrive."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "AllocMem per body chunk stays until the connection closes: a large "
                       "upload on a long connection adds up.")},
    {DiagramSlot::SendResponse, "SEND_RESPONSE",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "The request has been processed; the response headers are about to go "
                       "out. Once per request."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Read the status, add, change or remove response headers."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "A scratch buffer for building the response belongs in request memory: "
                       "it is released when the request ends. With AllocMem it would stay "
                       "until the connection closes.")},
    {DiagramSlot::SendRawData, "SEND_RAW_DATA",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Response bytes are about to reach the client; once per chunk, so "
                       "possibly many times. Filters run in reverse priority order here."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching", "Look at, rewrite or compress the outgoing bytes."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "AllocMem per chunk stays until the connection closes: the growth is "
                       "multiplied by the number of chunks.")},
    {DiagramSlot::EndOfRequest, "END_OF_REQUEST",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "The request is over. With keep-alive the connection stays open and "
                       "waits for the next request. Fires for every request, however it "
                       "ended."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Per-request cleanup: free what this request took from your own "
                       "allocator, reset per-request state kept in pFilterContext."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Request memory goes right after END_OF_REQUEST and LOG, when the "
                       "request ends. AllocMem blocks are not freed here: that is the point of "
                       "this view.")},
    {DiagramSlot::Log, "LOG",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Just before the request's log entry is written. Some servers send it "
                       "before END_OF_REQUEST; the two are unordered."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Change what is logged (user, target, parameters)."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Request memory: until the request ends, a moment later. AllocMem: "
                       "until the connection closes.")},
    {DiagramSlot::RequestEnd, QT_TRANSLATE_NOOP("memlife::ui::Teaching", "Request ends"),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "The request scope is released all at once: every block taken with "
                       "request memory during the request. The connection scope is not "
                       "touched."),
     "",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "What is still live now is connection memory, and it waits for "
                       "END_OF_NET_SESSION; so does anything taken between two requests.")},
    {DiagramSlot::EndOfNetSession, "END_OF_NET_SESSION",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "The connection is closing: the client hung up, it timed out, or a "
                       "filter returned REQ_FINISHED. Once per connection."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Release per-connection resources: what pFilterContext points to, "
                       "handles, caches."),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "The very end: right after this notification every AllocMem block of "
                       "the connection is freed at once.")},
    {DiagramSlot::SessionClose, QT_TRANSLATE_NOOP("memlife::ui::Teaching", "Connection closes"),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "The connection scope is released all at once: every AllocMem block of "
                       "every request of this connection. Blocks cannot be freed one by one "
                       "before this."),
     "",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Nothing is live any more. The longer a keep-alive connection lives, "
                       "the more AllocMem it holds until this moment.")},
    {DiagramSlot::Processing, QT_TRANSLATE_NOOP("memlife::ui::Teaching", "The request runs"),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "The request allocates memory as it runs, and frees some of it (blocks "
                       "of another allocator are freed one by one)."),
     "",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Request memory: until the request ends. Connection memory (AllocMem): "
                       "until the connection closes.")},
    {DiagramSlot::BetweenRequests, QT_TRANSLATE_NOOP("memlife::ui::Teaching", "Between requests"),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "The keep-alive connection waits for its next request; memory may be "
                       "taken or freed meanwhile."),
     "",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Memory taken now is connection memory: it lives until the connection "
                       "closes, or until it is freed.")},
}};

// An nginx capture's rows: nginx's own pools and the phases of its keep-alive code
// (src/http/ngx_http_request.c), in DiagramSlot order of diagramRows(LessonServer::Nginx).
constexpr std::array<LessonText, 6> kNginxLessons = {{
    {DiagramSlot::ConnectionOpen,
     QT_TRANSLATE_NOOP("memlife::ui::Teaching", "accept: c->pool created"),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "nginx accepts the connection and creates its pool, c->pool "
                       "(connection_pool_size, 512 bytes by default). The client header buffer "
                       "c->buffer (client_header_buffer_size, 1 KiB) is taken from it when the "
                       "first bytes arrive."),
     "",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "What is taken from c->pool lives until the connection closes, unless "
                       "ngx_pfree frees a large block early: nginx's analogue of AllocMem.")},
    {DiagramSlot::RequestBegin, QT_TRANSLATE_NOOP("memlife::ui::Teaching", "r->pool created"),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "A request starts: ngx_http_create_request creates its pool, r->pool "
                       "(request_pool_size, 4 KiB by default), for the request line, the headers "
                       "and what the modules need."),
     "",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "Memory from r->pool lives until the request ends (\"http close "
                       "request\"), however long the connection stays.")},
    {DiagramSlot::Processing, QT_TRANSLATE_NOOP("memlife::ui::Teaching", "the request runs"),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "The modules handle the request: r->pool gets more blocks and large "
                       "allocations (a file buffer, gzip's state), and ngx_pfree may free a "
                       "large one early. Request headers too long for c->buffer get a large "
                       "header buffer, taken from the connection's pool."),
     "",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "r->pool memory: until \"http close request\". A large header buffer "
                       "belongs to c->pool: the keep-alive hand-off frees it, not the "
                       "request.")},
    {DiagramSlot::RequestEnd,
     QT_TRANSLATE_NOOP("memlife::ui::Teaching", "http close request: r->pool freed"),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "The request is done: ngx_http_free_request destroys r->pool, and every "
                       "block and large allocation of it is freed at once."),
     "",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "What is still live now belongs to the connection: it waits for the "
                       "keep-alive hand-off or the close.")},
    {DiagramSlot::BetweenRequests,
     QT_TRANSLATE_NOOP("memlife::ui::Teaching", "keep-alive: between requests"),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "ngx_http_set_keepalive frees what the connection held for the request: "
                       "c->buffer and the large header buffers (hc->free, hc->busy), except one "
                       "a pipelined request still needs. When the next request arrives, the "
                       "keep-alive handler takes a new c->buffer."),
     "",
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "An idle keep-alive connection keeps little more than its pool: so "
                       "nginx's per-connection memory does not grow from request to request.")},
    {DiagramSlot::SessionClose, QT_TRANSLATE_NOOP("memlife::ui::Teaching", "close: c->pool freed"),
     QT_TRANSLATE_NOOP("memlife::ui::Teaching",
                       "The client closed the connection, or it timed out: "
                       "ngx_http_close_connection destroys c->pool and everything still taken "
                       "from it."),
     "", QT_TRANSLATE_NOOP("memlife::ui::Teaching", "Nothing is live any more.")},
}};

QString ordinal(std::uint32_t n) {
    switch (n) {
    case 1:
        return tr("1st");
    case 2:
        return tr("2nd");
    case 3:
        return tr("3rd");
    default:
        return tr("%1th").arg(n);
    }
}

QString statusText(std::uint8_t byte) {
    const auto status = status_from_byte(byte);
    return status ? QString::fromLatin1(name(*status).data(), qsizetype(name(*status).size()))
                  : QString();
}

} // namespace

StepLesson lessonFor(DiagramSlot slot, LessonServer server) {
    const LessonText* text = &kLessons[static_cast<std::size_t>(slot)];
    if (server == LessonServer::Nginx)
        for (const LessonText& nginx : kNginxLessons)
            if (nginx.slot == slot) text = &nginx;
    return {tr(text->name), tr(text->when), *text->filterMay ? tr(text->filterMay) : QString(),
            tr(text->memoryLives)};
}

ScopeNames scopeNames(LessonServer server) {
    switch (server) {
    case LessonServer::Nginx:
        return {tr("connection pool (c->pool)"), tr("request pool (r->pool)"),
                tr("until close http connection"), tr("until http close request")};
    case LessonServer::Plain:
        return {tr("connection-scoped"), tr("request-scoped"), tr("until the connection closes"),
                tr("until the request ends")};
    case LessonServer::Isapi:
        break;
    }
    return {tr("connection-scoped (AllocMem)"), tr("request-scoped"),
            tr("until END_OF_NET_SESSION"), tr("until the request ends")};
}

QString stepCaption(const TeachingStep& step, LessonServer server) {
    const bool nginx = server == LessonServer::Nginx;
    switch (step.kind) {
    case StepKind::Skipped:
        return step.skippedLast > step.skippedFirst
                   ? tr("Requests %1–%2 (folded)").arg(step.skippedFirst).arg(step.skippedLast)
                   : tr("Request %1 (folded)").arg(step.skippedFirst);
    case StepKind::RequestBegin:
        return nginx ? tr("Request %1: r->pool created").arg(step.request)
                     : tr("Request %1 begins").arg(step.request);
    case StepKind::RequestEnd:
        return nginx ? tr("Request %1: http close request, r->pool destroyed").arg(step.request)
                     : tr("Request %1 ends").arg(step.request);
    case StepKind::Allocations:
        if (step.request == 0)
            return nginx ? tr("Keep-alive: a buffer for the next request")
                         : tr("Between requests: allocations");
        return nginx ? tr("Request %1: r->pool grows").arg(step.request)
                     : tr("Request %1: allocations").arg(step.request);
    case StepKind::Frees:
        if (step.request == 0)
            return nginx ? tr("Keep-alive: the connection's buffers freed")
                         : tr("Between requests: blocks freed");
        return tr("Request %1: blocks freed").arg(step.request);
    case StepKind::SessionOpen:
    case StepKind::SessionClose:
        return lessonFor(diagramSlot(step), server).name;
    case StepKind::Notification:
        break;
    }
    QString text = lessonFor(diagramSlot(step)).name;
    if (step.request == 0) return text;
    if (step.repeat > 0)
        return tr("%1 (request %2, %3 time)")
            .arg(text)
            .arg(step.request)
            .arg(ordinal(step.repeat + 1));
    return tr("%1 (request %2)").arg(text).arg(step.request);
}

QString ruleDescription(const std::string& rule) {
    for (const OrderChecker::Rule& r : OrderChecker::rules())
        if (rule == r.id) return QString::fromUtf8(r.description);
    return {};
}

QString conditionBadge(DiagramSlot slot) {
    switch (slot) {
    case DiagramSlot::Authentication:
        return tr("1st request only");
    case DiagramSlot::AccessDenied:
        return tr("only on 401");
    case DiagramSlot::BodyRead:
        return tr("if a body");
    default:
        return {};
    }
}

bool slotRepeats(DiagramSlot slot) {
    switch (slot) {
    case DiagramSlot::ReadRawData:
    case DiagramSlot::UrlMap:
    case DiagramSlot::BodyRead:
    case DiagramSlot::SendRawData:
        return true;
    default:
        return false;
    }
}

QString stepExplanation(const TeachingScript& script, int index) {
    if (index < 0 || index >= int(script.steps.size())) return {};
    const TeachingStep& step = script.steps[std::size_t(index)];
    const StepLesson lesson = lessonFor(diagramSlot(step), script.server);
    const ScopeNames scopes = scopeNames(script.server);
    QString html;
    html += QStringLiteral("<h3 style='margin:0'>%1</h3>")
                .arg(stepCaption(step, script.server).toHtmlEscaped());

    // Violations first: they are why one opens a captured trace here.
    for (const OrderViolation& v : step.violations) {
        const QString description = ruleDescription(v.rule);
        html +=
            QStringLiteral("<p style='color:%1'><b>✕ %2</b> %3%4</p>")
                .arg(corruptionColor().name(),
                     tr("Order violation: %1.").arg(QString::fromStdString(v.rule)).toHtmlEscaped(),
                     QString::fromStdString(v.message).toHtmlEscaped(),
                     description.isEmpty() ? QString()
                                           : QStringLiteral("<br>") +
                                                 tr("Rule: %1").arg(description).toHtmlEscaped());
    }
    if (step.kind == StepKind::Skipped) {
        html +=
            QStringLiteral("<p>%1</p>")
                .arg(
                    tr("These requests are not shown step by step, to keep the lesson short. Their "
                       "allocations and releases are still counted: %1 allocation(s), %2.")
                        .arg(formatCount(step.allocationCount),
                             formatBytes(double(step.allocatedBytes)))
                        .toHtmlEscaped());
    } else {
        html += QStringLiteral("<p><b>%1</b> %2</p>")
                    .arg(tr("When:").toHtmlEscaped(), lesson.when.toHtmlEscaped());
        if (!lesson.filterMay.isEmpty())
            html += QStringLiteral("<p><b>%1</b> %2</p>")
                        .arg(tr("A filter may:").toHtmlEscaped(), lesson.filterMay.toHtmlEscaped());
        html += QStringLiteral("<p><b>%1</b> %2</p>")
                    .arg(tr("Memory allocated here lives:").toHtmlEscaped(),
                         lesson.memoryLives.toHtmlEscaped());
    }

    QStringList facts;
    if (const QString status = statusText(step.status); !status.isEmpty())
        facts << tr("It fires now because a filter returned %1 at the previous notification.")
                     .arg(status);
    if (step.allocationCount > 0) {
        QStringList blocks;
        for (const StepAllocation& a : step.allocations)
            blocks << tr("%1 (%2, block %3)")
                          .arg(formatBytes(double(a.size)), originName(a.origin))
                          .arg(a.block);
        if (step.allocationCount > step.allocations.size())
            blocks << tr("… %1 more").arg(step.allocationCount - step.allocations.size());
        facts << tr("Allocated in this step: %1.").arg(blocks.join(QStringLiteral(", ")));
    } else if (step.kind == StepKind::Notification) {
        facts << tr("Nothing allocated in this step.");
    }
    if (step.releasedBytes > 0)
        facts << tr("Released in this step: %1.").arg(formatBytes(double(step.releasedBytes)));
    if (step.peakRequestBytes > step.requestBytes || step.peakSessionBytes > step.sessionBytes)
        facts << tr("During this step the live bytes peaked at: %1 %2, %3 %4.")
                     .arg(scopes.session, formatBytes(double(step.peakSessionBytes)),
                          scopes.request, formatBytes(double(step.peakRequestBytes)));
    if (step.kind == StepKind::RequestEnd && step.requestBytes > 0)
        facts << tr("Request-scoped memory still live after its request ended was noted from "
                    "another allocator and never freed: a leak.");
    if (step.corruptions > 0) facts << tr("%1 tail corruption(s) detected.").arg(step.corruptions);
    if (step.leaks > 0) facts << tr("%1 leak(s) reported.").arg(step.leaks);
    facts << tr("Live now: %1 %2, %3 %4.")
                 .arg(scopes.session, formatBytes(double(step.sessionBytes)), scopes.request,
                      formatBytes(double(step.requestBytes)));
    html += QStringLiteral("<p>%1</p>").arg(facts.join(QLatin1Char(' ')).toHtmlEscaped());
    return html;
}

} // namespace memlife::ui
