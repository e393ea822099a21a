#include "pages/tailinspector.hpp"

#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QLabel>
#include <QTextBrowser>
#include <QVBoxLayout>

#include "style/format.hpp"
#include "style/style.hpp"

namespace memlife::ui {

TailInspector::TailInspector(const data::CorruptionRow& corruption, QWidget* parent)
    : QDialog(parent), corruption_(corruption) {
    setObjectName(QStringLiteral("tailInspector"));
    setWindowTitle(
        tr("Tail of block %1 (session %2)").arg(corruption.block).arg(corruption.session));
    auto* layout = new QVBoxLayout(this);

    const int first = firstModifiedOffset();
    auto* summary = new QLabel(this);
    summary->setTextFormat(Qt::RichText);
    summary->setWordWrap(true);
    summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QString text =
        tr("<b>Block %1</b> of session %2: %3 bytes requested at %4, %5 scope, allocated in "
           "%6 (request %7), detected in %8 (request %9).")
            .arg(corruption.block)
            .arg(corruption.session)
            .arg(corruption.size)
            .arg(formatAddress(corruption.address))
            .arg(scopeName(corruption.scope))
            .arg(notificationName(corruption.alloc_notification))
            .arg(corruption.alloc_request)
            .arg(notificationName(corruption.last_notification))
            .arg(corruption.request);
    if (first >= 0)
        text += tr("<br>First modified byte: offset <b>+%1</b> past the requested size "
                   "(address %2); %3 byte(s) modified.")
                    .arg(first)
                    .arg(formatAddress(corruption.address + corruption.size + std::uint64_t(first)))
                    .arg(corruption.modified_count);
    if (corruption.fault_address)
        text += tr("<br>Guard-page fault at %1.").arg(formatAddress(corruption.fault_address));
    summary->setText(text);
    layout->addWidget(summary);

    table_ = new QTextBrowser(this);
    table_->setObjectName(QStringLiteral("tailBytes"));
    table_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    table_->setHtml(hexHtml());
    layout->addWidget(table_, 1);

    auto* message = new QLabel(QString::fromStdString(corruption.message), this);
    message->setObjectName(QStringLiteral("reportMessage"));
    message->setWordWrap(true);
    message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    message->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    layout->addWidget(message);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    resize(560, 360);
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

QString TailInspector::hexHtml() const {
    const std::string& expected = corruption_.expected;
    const std::string& found = corruption_.found;
    const int first = firstModifiedOffset();
    const QString red = corruptionColor().name();
    const QString byteStyle =
        QStringLiteral("background-color:%1; color:#ffffff; font-weight:bold;").arg(red);
    auto cell = [&](const std::string& bytes, std::size_t i, bool markDiffs) {
        if (i >= bytes.size()) return QStringLiteral("&nbsp;&nbsp;");
        const QString hex =
            QStringLiteral("%1").arg(static_cast<unsigned char>(bytes[i]), 2, 16, QLatin1Char('0'));
        const bool differs = i >= expected.size() || i >= found.size() || expected[i] != found[i];
        QString style;
        if (markDiffs && differs) style += byteStyle;
        if (static_cast<int>(i) == first)
            style += QStringLiteral("text-decoration:underline; font-weight:bold;");
        return style.isEmpty() ? hex
                               : QStringLiteral("<span style=\"%1\">%2</span>").arg(style, hex);
    };
    QString html = QStringLiteral("<table cellspacing=\"0\" cellpadding=\"3\">"
                                  "<tr><th align=\"left\">%1</th><th align=\"left\">%2</th>"
                                  "<th align=\"left\">%3</th></tr>")
                       .arg(tr("offset"), tr("expected"), tr("found"));
    const std::size_t length = std::max(expected.size(), found.size());
    if (length == 0)
        return html + QStringLiteral("<tr><td colspan=\"3\">%1</td></tr></table>")
                          .arg(tr("no tail bytes recorded (guard-page fault)"));
    for (std::size_t row = 0; row < length; row += kBytesPerRow) {
        QString e, f;
        for (std::size_t i = row; i < std::min(length, row + kBytesPerRow); ++i) {
            if (i != row) e += QLatin1Char(' '), f += QLatin1Char(' ');
            e += cell(expected, i, false);
            f += cell(found, i, true);
        }
        html +=
            QStringLiteral("<tr><td>+%1</td><td><code>%2</code></td><td><code>%3</code></td></tr>")
                .arg(row, 2, 10, QLatin1Char('0'))
                .arg(e, f);
    }
    return html + QStringLiteral("</table>");
}

} // namespace memlife::ui
