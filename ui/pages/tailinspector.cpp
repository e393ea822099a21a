#include "pages/tailinspector.hpp"

#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QLabel>
#include <QTextDocument>
#include <QVBoxLayout>

#include "pages/stackpanel.hpp"
#include "style/format.hpp"
#include "style/style.hpp"

namespace memlife::ui {

namespace {

// "in URL_MAP of request 3", "in request 3", "between requests, in AUTHENTICATION".
QString place(std::uint32_t request, Notification n) {
    if (request == 0)
        return n == Notification::None
                   ? TailInspector::tr("between requests")
                   : TailInspector::tr("between requests, in %1").arg(notificationName(n));
    return n == Notification::None
               ? TailInspector::tr("in request %1").arg(request)
               : TailInspector::tr("in %1 of request %2").arg(notificationName(n)).arg(request);
}

} // namespace

QString TailInspector::detectionPlace(std::uint32_t request, Notification last) {
    // A connection's close (END_OF_NET_SESSION) checks the tails of what it releases; outside
    // a request otherwise only a check does (or a close that no END_OF_NET_SESSION announced).
    if (request == 0 && (last == Notification::None || last == Notification::EndOfNetSession))
        return tr("at connection close");
    if (request == 0) return tr("outside a request, after %1").arg(notificationName(last));
    return place(request, last);
}

TailInspector::TailInspector(const data::CorruptionRow& corruption, const TracePtr& trace,
                             QWidget* parent)
    : QDialog(parent), corruption_(corruption) {
    setObjectName(QStringLiteral("tailInspector"));
    setWindowTitle(
        tr("Tail of block %1 (session %2)").arg(corruption.block).arg(corruption.session));
    auto* layout = new QVBoxLayout(this);
    // The dialog is as large as what it shows: no empty box under a short tail.
    layout->setSizeConstraint(QLayout::SetFixedSize);

    summary_ = new QLabel(summaryHtml(), this);
    summary_->setObjectName(QStringLiteral("tailSummary"));
    summary_->setTextFormat(Qt::RichText);
    summary_->setWordWrap(true);
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    summary_->setMinimumWidth(560);
    layout->addWidget(summary_);

    auto* bytes = new QLabel(hexHtml(), this);
    bytes->setObjectName(QStringLiteral("tailBytes"));
    bytes->setTextFormat(Qt::RichText);
    bytes->setTextInteractionFlags(Qt::TextSelectableByMouse);
    bytes->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    layout->addWidget(bytes);

    auto* payload = new QLabel(
        tr("The block's own %1 bytes before the tail are not in the trace: memlife records the "
           "tail it expected after the block and what it found there.")
            .arg(corruption.size),
        this);
    payload->setObjectName(QStringLiteral("tailPayloadNote"));
    payload->setWordWrap(true);
    QFont italic = payload->font();
    italic.setItalic(true);
    payload->setFont(italic);
    layout->addWidget(payload);

    if (!corruption.message.empty()) {
        auto* message = new QLabel(QString::fromStdString(corruption.message), this);
        message->setObjectName(QStringLiteral("reportMessage"));
        message->setWordWrap(true);
        message->setTextInteractionFlags(Qt::TextSelectableByMouse);
        message->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
        layout->addWidget(message);
    }

    // Which code allocated the block, as pageheap records in the block's header.
    // (No trace, no stack to read: the panel is left out; a block without one gets a line.)
    stack_ = new StackPanel(this);
    const bool frames = trace && trace->stacks.recorded && corruption.stack != 0;
    stack_->setFixedHeight(stack_->fontMetrics().height() * (frames ? 12 : 3));
    stack_->showStack(trace, corruption.stack);
    stack_->setVisible(trace != nullptr);
    layout->addWidget(stack_);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
}

int TailInspector::firstModifiedOffset() const {
    const std::string& expected = corruption_.expected;
    const std::string& found = corruption_.found;
    const std::size_t n = std::min(expected.size(), found.size());
    for (std::size_t i = 0; i < n; ++i)
        if (expected[i] != found[i]) return static_cast<int>(i);
    if (expected.size() != found.size()) return static_cast<int>(n);
    return expected.empty() ? static_cast<int>(corruption_.first_offset) : -1;
}

QString TailInspector::summaryHtml() const {
    const data::CorruptionRow& c = corruption_;
    QString text = tr("<b>Block %1</b> of session %2: %3 requested at %4, %5 scope; allocated "
                      "%6, damage found %7.")
                       .arg(c.block)
                       .arg(c.session)
                       .arg(formatBytes(double(c.size)))
                       .arg(formatAddress(c.address))
                       .arg(scopeName(c.scope))
                       .arg(place(c.alloc_request, c.alloc_notification))
                       .arg(detectionPlace(c.request, c.last_notification));
    const int first = firstModifiedOffset();
    if (first >= 0)
        text += tr("<br>First modified byte: <b>+%1</b> past the requested size (address %2); "
                   "%3 byte(s) modified.")
                    .arg(first)
                    .arg(formatAddress(c.address + c.size + std::uint64_t(first)))
                    .arg(c.modified_count);
    if (c.fault_address)
        text += tr("<br>Guard-page fault at %1.").arg(formatAddress(c.fault_address));
    return text;
}

QString TailInspector::summaryText() const {
    QTextDocument document;
    document.setHtml(summaryHtml());
    return document.toPlainText();
}

QString TailInspector::hexHtml() const {
    const std::string& expected = corruption_.expected;
    const std::string& found = corruption_.found;
    const int first = firstModifiedOffset();
    const std::size_t length = std::max(expected.size(), found.size());
    if (length == 0)
        return tr("No tail bytes were recorded (a guard-page fault stops the write itself).");
    const QString marked = QStringLiteral("background-color:%1; color:#ffffff; font-weight:bold;")
                               .arg(corruptionColor().name());
    auto differs = [&](std::size_t i) {
        return i >= expected.size() || i >= found.size() || expected[i] != found[i];
    };
    // One byte as hex or as its ASCII character, styled: modified bytes marked in the found
    // row, the first one underlined in both.
    auto cell = [&](const std::string& bytes, std::size_t i, bool found, bool ascii) {
        if (i >= bytes.size())
            return QString(ascii ? QStringLiteral("&nbsp;") : QStringLiteral("&nbsp;&nbsp;"));
        const auto byte = static_cast<unsigned char>(bytes[i]);
        const QString text =
            ascii ? (byte >= 0x20 && byte < 0x7f ? QString(QChar(byte)).toHtmlEscaped()
                                                 : QStringLiteral("·"))
                  : QStringLiteral("%1").arg(byte, 2, 16, QLatin1Char('0'));
        QString style;
        if (found && differs(i)) style += marked;
        if (static_cast<int>(i) == first) style += QStringLiteral("text-decoration:underline;");
        return style.isEmpty() ? text
                               : QStringLiteral("<span style=\"%1\">%2</span>").arg(style, text);
    };
    auto line = [&](const std::string& bytes, std::size_t row, bool isFound) {
        QString groups, ascii;
        for (std::size_t i = row; i < row + kBytesPerRow; ++i) {
            if (i != row)
                groups += (i - row) % kGroup == 0 ? QStringLiteral("&nbsp;&nbsp;&nbsp;")
                                                  : QStringLiteral("&nbsp;");
            groups += cell(bytes, i, isFound, false);
            ascii += cell(bytes, i, isFound, true);
        }
        return QStringLiteral("<td>%1</td><td><code>%2</code></td><td><code>%3</code></td>")
            .arg(isFound ? tr("found") : tr("expected"), groups, ascii);
    };
    QString html =
        QStringLiteral("<table cellspacing=\"0\" cellpadding=\"2\"><tr><th "
                       "align=\"left\">%1</th><th align=\"left\">%2</th><th></th><th "
                       "align=\"left\">%3</th><th align=\"left\">%4</th></tr>")
            .arg(tr("past the end"), tr("address"), tr("bytes (hex, by four)"), tr("ASCII"));
    const std::uint64_t end = corruption_.address + corruption_.size;
    for (std::size_t row = 0; row < length; row += kBytesPerRow) {
        const QString where = QStringLiteral("<td rowspan=\"2\" valign=\"top\">+%1</td><td "
                                             "rowspan=\"2\" valign=\"top\"><code>%2</code></td>")
                                  .arg(row)
                                  .arg(formatAddress(end + row));
        html += QStringLiteral("<tr>%1%2</tr><tr>%3</tr>")
                    .arg(where, line(expected, row, false), line(found, row, true));
        if (row + kBytesPerRow < length)
            html +=
                QStringLiteral("<tr><td colspan=\"5\" style=\"font-size:4pt\">&nbsp;</td></tr>");
    }
    return html + QStringLiteral("</table>");
}

} // namespace memlife::ui
