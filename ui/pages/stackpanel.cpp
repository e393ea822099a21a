#include "pages/stackpanel.hpp"

#include "models/stacktreemodel.hpp"
#include "style/format.hpp"

namespace memlife::ui {

StackPanel::StackPanel(QWidget* parent) : QTextBrowser(parent), job_(this) {
    setObjectName(QStringLiteral("allocatingStack"));
    setOpenLinks(false);
}

QString StackPanel::framesHtml(const std::vector<data::StackFrame>& frames) {
    QString html = QStringLiteral("<table cellspacing=\"0\" cellpadding=\"2\">");
    for (std::size_t i = 0; i < frames.size(); ++i) {
        const data::StackFrame& f = frames[i];
        QString function = frameFunction(f).toHtmlEscaped();
        if (f.inlined) function += tr(" (inlined)");
        html += QStringLiteral("<tr><td align=\"right\">#%1</td><td><b>%2</b></td>"
                               "<td nowrap>%3</td><td nowrap>%4</td></tr>")
                    .arg(i)
                    .arg(function, QString::fromStdString(data::frame_location(f)).toHtmlEscaped(),
                         frameModule(f).toHtmlEscaped());
    }
    return html + QStringLiteral("</table>");
}

void StackPanel::showText(const QString& text) {
    setHtml(QStringLiteral("<p>%1</p>").arg(text.toHtmlEscaped()));
}

void StackPanel::showStack(const TracePtr& trace, std::uint64_t stack) {
    job_.discard();
    stack_ = stack;
    frames_.clear();
    if (!trace) {
        clear();
        Q_EMIT loaded();
        return;
    }
    if (stack == 0) {
        showText(trace->stacks.recorded
                     ? tr("No call stack was recorded for this block.")
                     : tr("This trace has %1.").arg(QString::fromStdString(trace->stacks.reason)));
        Q_EMIT loaded();
        return;
    }
    showText(tr("Reading the allocating stack…"));
    job_.start<std::vector<data::StackFrame>>({
        .work =
            [readers = trace->readers, stack](const JobControl&) {
                return readers->useStacks(
                    [&](const data::StackReader& reader) { return reader.frames(stack); });
            },
        .done =
            [this](std::vector<data::StackFrame> frames) {
                frames_ = std::move(frames);
                setHtml(tr("<b>Allocated by</b> (innermost frame first):") + framesHtml(frames_));
                Q_EMIT loaded();
            },
        .failed =
            [this](const QString& message) {
                showText(readErrorText(message));
                Q_EMIT loaded();
            },
    });
}

} // namespace memlife::ui
