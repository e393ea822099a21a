#include "memlife/ui/teachingpage.hpp"

#include <QBarSet>
#include <QCategoryAxis>
#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHelpEvent>
#include <QLabel>
#include <QLegendMarker>
#include <QLineSeries>
#include <QPainter>
#include <QPainterPath>
#include <QPushButton>
#include <QShortcut>
#include <QSignalBlocker>
#include <QSplitter>
#include <QStackedBarSeries>
#include <QStandardItemModel>
#include <QStyle>
#include <QTextBrowser>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>

#include "memlife/data/trace.hpp"
#include "memlife/ui/format.hpp"
#include "memlife/ui/marks.hpp"
#include "memlife/ui/teachingtexts.hpp"
#include "memlife/ui/tracedocument.hpp"

namespace memlife::ui {

namespace {

// The two scopes keep their colours everywhere in the view: diagram frames, bars, lines.
QColor sessionScopeColor() {
    return seriesColor(0);
}
QColor requestScopeColor() {
    return seriesColor(1);
}

bool isMarkerSlot(DiagramSlot slot) {
    return slot == DiagramSlot::ConnectionOpen || slot == DiagramSlot::RequestBegin ||
           slot == DiagramSlot::RequestEnd || slot == DiagramSlot::SessionClose;
}

QString slotLabel(DiagramSlot slot) {
    switch (slot) {
    case DiagramSlot::ConnectionOpen:
        return QObject::tr("connection opens");
    case DiagramSlot::RequestBegin:
        return QObject::tr("request begins");
    case DiagramSlot::RequestEnd:
        return QObject::tr("request ends: request memory released");
    case DiagramSlot::SessionClose:
        return QObject::tr("connection closes: AllocMem memory released");
    default:
        return lessonFor(slot).name;
    }
}

// A byte axis unit for values up to maxBytes.
std::pair<double, QString> byteUnit(double maxBytes) {
    if (maxBytes >= 2.0 * 1024 * 1024) return {1024.0 * 1024, QObject::tr("MiB")};
    if (maxBytes >= 2048) return {1024.0, QObject::tr("KiB")};
    return {1.0, QObject::tr("B")};
}

QString signedBytes(std::int64_t delta) {
    return (delta > 0 ? QStringLiteral("+") : QStringLiteral("−")) +
           formatBytes(double(delta > 0 ? delta : -delta));
}

} // namespace

// ---------------------------------------------------------------- the order diagram

TeachingDiagram::TeachingDiagram(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Expanding);
}

QSize TeachingDiagram::sizeHint() const {
    const int line = fontMetrics().height();
    return {34 * fontMetrics().averageCharWidth() + 4 * line, 16 * (2 * line + 10) + 6 * line};
}

QSize TeachingDiagram::minimumSizeHint() const {
    const int line = fontMetrics().height();
    return {26 * fontMetrics().averageCharWidth() + 4 * line, 16 * (line + 8) + 4 * line + 40};
}

void TeachingDiagram::setState(const TeachingScript* script, int step) {
    script_ = script;
    marks_.clear();
    fired_ = {};
    current_ = DiagramSlot::ConnectionOpen;
    step_ = 0;
    if (script_ && !script_->steps.empty()) {
        const auto& steps = script_->steps;
        step_ = std::clamp(step, 0, int(steps.size()) - 1);
        const TeachingStep& now = steps[std::size_t(step_)];
        current_ = diagramSlot(now);
        // The current request's steps so far (or the run of connection-level steps).
        int first = step_;
        while (first > 0 && steps[std::size_t(first - 1)].request == now.request &&
               (now.request != 0 || steps[std::size_t(first - 1)].kind != StepKind::SessionOpen))
            --first;
        // With notifications the request's begin is folded into its first notification.
        if (script_->hasNotifications && now.request != 0 && now.kind != StepKind::Skipped)
            fired_[std::size_t(DiagramSlot::RequestBegin)] = 1;
        for (int i = first; i <= step_; ++i) {
            const TeachingStep& s = steps[std::size_t(i)];
            const DiagramSlot slot = diagramSlot(s);
            ++fired_[std::size_t(slot)];
            for (const OrderViolation& v : s.violations)
                marks_.push_back(
                    {slot, QString::fromStdString(v.rule), QString::fromStdString(v.message)});
        }
    }
    update();
}

void TeachingDiagram::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    layoutRows();
}

void TeachingDiagram::layoutRows() {
    const QFontMetrics fm = fontMetrics();
    const int margin = 8, gap = 6;
    const int titleHeight = fm.height() + 10;
    const int bracketWidth = fm.height() + 12;
    const int fixed = 2 * margin + 2 * titleHeight + 20;
    const int pitch =
        std::clamp((height() - fixed) / kDiagramSlotCount, fm.height() + 8, 2 * fm.height() + 14);
    const int right = width() - margin - 2 * bracketWidth - 6;
    auto row = [&](int y, int indent) {
        return QRect(margin + indent, y, std::max(40, right - indent - margin - indent / 2),
                     pitch - gap);
    };
    int y = margin;
    connectionFrame_.setTopLeft({margin, y});
    y += titleHeight;
    rects_[std::size_t(DiagramSlot::ConnectionOpen)] = row(y, 10);
    y += pitch + 4;
    requestFrame_.setTopLeft({margin + 12, y});
    y += titleHeight;
    for (int s = int(DiagramSlot::RequestBegin); s <= int(DiagramSlot::RequestEnd); ++s) {
        rects_[std::size_t(s)] = row(y, 24);
        y += pitch;
    }
    requestFrame_.setBottomRight({right - 10, y + 2});
    y += 10;
    rects_[std::size_t(DiagramSlot::EndOfNetSession)] = row(y, 10);
    y += pitch;
    rects_[std::size_t(DiagramSlot::SessionClose)] = row(y, 10);
    y += pitch;
    connectionFrame_.setBottomRight({right, y + 2});

    const QRect open = rects_[std::size_t(DiagramSlot::ConnectionOpen)];
    const QRect close = rects_[std::size_t(DiagramSlot::SessionClose)];
    const QRect begin = rects_[std::size_t(DiagramSlot::RequestBegin)];
    const QRect end = rects_[std::size_t(DiagramSlot::RequestEnd)];
    sessionBracket_ = QRect(QPoint(right + 6, open.center().y()),
                            QPoint(right + 6 + bracketWidth - 2, close.center().y()));
    requestBracket_ = QRect(QPoint(right + 6 + bracketWidth, begin.center().y()),
                            QPoint(right + 6 + 2 * bracketWidth - 2, end.center().y()));
}

QString TeachingDiagram::frameTitle() const {
    if (!script_ || script_->steps.empty()) return tr("Each request");
    const TeachingStep& now = script_->steps[std::size_t(step_)];
    if (now.kind == StepKind::Skipped) return stepCaption(now);
    if (now.request == 0)
        return tr("Each request (keep-alive: %1 on this connection)").arg(script_->requestsTotal);
    return tr("Request %1 of %2: this frame repeats for every request")
        .arg(now.request)
        .arg(script_->requestsTotal);
}

void TeachingDiagram::paintEvent(QPaintEvent*) {
    if (rects_[0].isNull()) layoutRows();
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing, true);
    const QPalette pal = palette();
    const QFontMetrics fm = fontMetrics();
    QFont bold = font();
    bold.setBold(true);
    QFont small = font();
    small.setPointSizeF(font().pointSizeF() * 0.85);
    const QFontMetrics smallMetrics(small);
    const bool hasSteps = script_ && !script_->steps.empty();

    auto tinted = [](QColor c, int alpha) {
        c.setAlpha(alpha);
        return c;
    };

    // Frames: the connection (session colour) around the request (request colour).
    p.setPen(QPen(sessionScopeColor(), 1.5));
    p.setBrush(tinted(sessionScopeColor(), 26));
    p.drawRoundedRect(connectionFrame_, 8, 8);
    p.setPen(QPen(requestScopeColor(), 1.5));
    p.setBrush(tinted(requestScopeColor(), 30));
    p.drawRoundedRect(requestFrame_, 8, 8);

    p.setFont(bold);
    p.setPen(pal.color(QPalette::Text));
    const QFontMetrics boldMetrics(bold);
    const QString connectionTitle = script_ && script_->fromTrace
                                        ? tr("Connection: session %1").arg(script_->session)
                                        : tr("Connection (keep-alive)");
    p.drawText(
        connectionFrame_.adjusted(10, 4, -10, 0), Qt::AlignLeft | Qt::AlignTop,
        boldMetrics.elidedText(connectionTitle, Qt::ElideRight, connectionFrame_.width() - 20));
    p.drawText(requestFrame_.adjusted(10, 4, -10, 0), Qt::AlignLeft | Qt::AlignTop,
               boldMetrics.elidedText(frameTitle(), Qt::ElideRight, requestFrame_.width() - 20));

    // Net change of each scope during the current step, shown on its row.
    std::int64_t sessionDelta = 0, requestDelta = 0;
    if (hasSteps) {
        const TeachingStep& now = script_->steps[std::size_t(step_)];
        const TeachingStep* before = step_ > 0 ? &script_->steps[std::size_t(step_ - 1)] : nullptr;
        sessionDelta =
            std::int64_t(now.sessionBytes) - std::int64_t(before ? before->sessionBytes : 0);
        requestDelta =
            std::int64_t(now.requestBytes) - std::int64_t(before ? before->requestBytes : 0);
    }

    for (int s = 0; s < kDiagramSlotCount; ++s) {
        const auto slot = static_cast<DiagramSlot>(s);
        const QRect r = rects_[std::size_t(s)];
        const bool marker = isMarkerSlot(slot);
        const bool current = hasSteps && slot == current_;
        const bool reached = current || fired_[std::size_t(s)] > 0;
        QStringList rules;
        for (const Mark& m : marks_)
            if (m.slot == slot && !rules.contains(m.rule)) rules << m.rule;

        QColor fill = marker ? QColor(Qt::transparent) : pal.color(QPalette::Base);
        QPen border(pal.color(QPalette::Mid), 1, marker ? Qt::DashLine : Qt::SolidLine);
        QColor text = reached || !hasSteps ? pal.color(QPalette::Text)
                                           : pal.color(QPalette::Disabled, QPalette::Text);
        if (!rules.isEmpty()) {
            fill = rowTint(corruptionColor());
            border = QPen(corruptionColor(), 2);
        }
        if (current) {
            fill = pal.color(QPalette::Highlight);
            text = pal.color(QPalette::HighlightedText);
            border = QPen(rules.isEmpty() ? pal.color(QPalette::Highlight).darker(140)
                                          : corruptionColor(),
                          rules.isEmpty() ? 2 : 3);
        }
        p.setPen(border);
        p.setBrush(fill);
        p.drawRoundedRect(QRectF(r).adjusted(0.5, 0.5, -0.5, -0.5), 5, 5);

        // Right side, from the right edge: the scope changes of the current step, the
        // violated rule (else the badges), the count; the name keeps the rest on the left.
        const QFont& nameFont = current || !marker ? bold : font();
        const QFontMetrics nameMetrics(nameFont);
        const QString name = slotLabel(slot);
        int x = r.right() - 6;
        auto chip = [&](const QString& label, const QColor& color, bool filled) {
            const int w = smallMetrics.horizontalAdvance(label) + 12;
            const int h = smallMetrics.height() + 2;
            const QRect box(x - w, r.center().y() - h / 2, w, h);
            p.setFont(small);
            p.setPen(QPen(color, 1));
            p.setBrush(filled ? color : QColor(Qt::transparent));
            p.drawRoundedRect(box, h / 2.0, h / 2.0);
            p.setPen(filled ? QColor(Qt::white) : color);
            p.drawText(box, Qt::AlignCenter, label);
            x -= w + 5;
        };
        if (current) {
            if (requestDelta != 0) chip(signedBytes(requestDelta), requestScopeColor(), true);
            if (sessionDelta != 0) chip(signedBytes(sessionDelta), sessionScopeColor(), true);
        }
        const QColor badgeColor =
            current ? pal.color(QPalette::HighlightedText) : pal.color(QPalette::PlaceholderText);
        if (!rules.isEmpty()) {
            QFont ruleFont = small;
            ruleFont.setBold(true);
            const QFontMetrics ruleMetrics(ruleFont);
            p.setFont(ruleFont);
            p.setPen(current ? pal.color(QPalette::HighlightedText) : corruptionColor());
            const QString label = QStringLiteral("✕ ") + rules.join(QStringLiteral(", "));
            const int room = x - r.left() - 8 - nameMetrics.horizontalAdvance(name) - 10;
            const int w = std::max(0, std::min(ruleMetrics.horizontalAdvance(label), room));
            p.drawText(QRect(x - w, r.top(), w, r.height()), Qt::AlignRight | Qt::AlignVCenter,
                       ruleMetrics.elidedText(label, Qt::ElideRight, w));
            x -= w + 8;
        } else {
            if (const QString condition = conditionBadge(slot); !condition.isEmpty())
                chip(condition, badgeColor, false);
            if (slotRepeats(slot)) chip(tr("repeats"), badgeColor, false);
        }
        if (fired_[std::size_t(s)] > 1) {
            p.setFont(bold);
            p.setPen(text);
            const QString count = QStringLiteral("×%1").arg(fired_[std::size_t(s)]);
            const int w = QFontMetrics(bold).horizontalAdvance(count);
            p.drawText(QRect(x - w, r.top(), w, r.height()), Qt::AlignVCenter, count);
            x -= w + 6;
        }

        p.setFont(nameFont);
        p.setPen(text);
        const QRect label =
            QRect(r.left() + 8, r.top(), std::max(10, x - r.left() - 8), r.height());
        p.drawText(label, Qt::AlignLeft | Qt::AlignVCenter,
                   nameMetrics.elidedText(name, Qt::ElideRight, label.width()));
    }

    // Lifetimes: how long memory of each scope lives, from where it can be taken to where
    // it is released.
    auto bracket = [&](const QRect& b, const QColor& color, const QString& label) {
        p.setPen(QPen(color, 3, Qt::SolidLine, Qt::RoundCap));
        const int x = b.left() + 3;
        p.drawLine(x, b.top(), x, b.bottom());
        p.drawLine(x, b.top(), x - 3, b.top());
        p.drawLine(x, b.bottom(), x - 3, b.bottom());
        p.save();
        p.translate(b.left() + 6 + fm.ascent(), b.center().y());
        p.rotate(-90);
        p.setFont(small);
        p.setPen(color);
        const QString text =
            smallMetrics.elidedText(label, Qt::ElideRight, std::max(0, b.height() - 4));
        p.drawText(QRect(-b.height() / 2, -fm.ascent(), b.height(), fm.height()), Qt::AlignCenter,
                   text);
        p.restore();
    };
    bracket(sessionBracket_, sessionScopeColor(), tr("AllocMem (connection memory) lives"));
    bracket(requestBracket_, requestScopeColor(), tr("request memory lives"));
}

bool TeachingDiagram::event(QEvent* event) {
    if (event->type() != QEvent::ToolTip) return QWidget::event(event);
    auto* help = static_cast<QHelpEvent*>(event);
    for (int s = 0; s < kDiagramSlotCount; ++s) {
        if (!rects_[std::size_t(s)].contains(help->pos())) continue;
        const auto slot = static_cast<DiagramSlot>(s);
        const StepLesson lesson = lessonFor(slot);
        QString text = QStringLiteral("<b>%1</b><br>%2")
                           .arg(lesson.name.toHtmlEscaped(), lesson.when.toHtmlEscaped());
        for (const Mark& m : marks_)
            if (m.slot == slot)
                text += QStringLiteral("<br><span style='color:%1'><b>✕ %2</b>: %3</span>")
                            .arg(corruptionColor().name(), m.rule.toHtmlEscaped(),
                                 m.message.toHtmlEscaped());
        QToolTip::showText(help->globalPos(), text, this, rects_[std::size_t(s)]);
        return true;
    }
    QToolTip::hideText();
    event->ignore();
    return true;
}

// ---------------------------------------------------------------- scope chart

TeachingScopeChart::TeachingScopeChart(QWidget* parent) : QChartView(parent) {
    auto* chart = new QChart;
    chart->setMargins(QMargins(6, 6, 6, 6));
    chart->legend()->setAlignment(Qt::AlignTop);
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->setTitle(tr("Live bytes by scope after each step"));
    setChart(chart);
    setRenderHint(QPainter::Antialiasing, true);
    auto* series = new QStackedBarSeries(chart);
    series->setBarWidth(0.8);
    session_ = new QBarSet(tr("connection-scoped (AllocMem): until END_OF_NET_SESSION"));
    request_ = new QBarSet(tr("request-scoped: until the request ends"));
    series->append(session_);
    series->append(request_);
    chart->addSeries(series);
    xAxis_ = new QCategoryAxis(chart);
    xAxis_->setLabelsPosition(QCategoryAxis::AxisLabelsPositionOnValue);
    xAxis_->setTitleText(tr("steps, request by request"));
    yAxis_ = new QValueAxis(chart);
    chart->addAxis(xAxis_, Qt::AlignBottom);
    chart->addAxis(yAxis_, Qt::AlignLeft);
    series->attachAxis(xAxis_);
    series->attachAxis(yAxis_);
    applyPalette();
}

void TeachingScopeChart::setScript(const TeachingScript& script) {
    const int n = int(script.steps.size());
    // Bars sit at x = 0 .. n-1; the axis names where each request starts rather than
    // numbering tens of steps.
    for (const QString& label : xAxis_->categoriesLabels())
        xAxis_->remove(label);
    std::uint32_t lastRequest = 0;
    int lastLabel = -2;
    bool closing = false;
    for (int i = 0; i < n; ++i) {
        const TeachingStep& s = script.steps[std::size_t(i)];
        QString label;
        if (s.kind == StepKind::Skipped) {
            label = s.skippedLast > s.skippedFirst
                        ? tr("req %1–%2").arg(s.skippedFirst).arg(s.skippedLast)
                        : tr("req %1").arg(s.skippedFirst);
        } else if (s.request != 0 && s.request != lastRequest) {
            label = tr("req %1").arg(s.request);
        } else if (!closing && (s.kind == StepKind::SessionClose ||
                                s.notification == Notification::EndOfNetSession)) {
            closing = true;
            // Right after the folded requests there is no room for a second label.
            if (i - lastLabel >= 2) label = tr("close");
        }
        if (s.request != 0) lastRequest = s.request;
        if (label.isEmpty() || xAxis_->categoriesLabels().contains(label)) continue;
        xAxis_->append(label, i - 0.5);
        lastLabel = i;
    }
    xAxis_->setRange(-0.5, std::max(0.5, n - 0.5));
    session_->remove(0, session_->count());
    request_->remove(0, request_->count());
    const QList<qreal> zeros(n, 0.0);
    session_->append(zeros);
    request_->append(zeros);
    // Scaled to the bars, not to peaks inside a step that no bar shows.
    double highest = 0;
    for (const TeachingStep& step : script.steps)
        highest = std::max(highest, double(step.liveBytes()));
    const auto [unit, unitName] = byteUnit(highest);
    unit_ = unit;
    yAxis_->setRange(0, std::max(1.0, highest / unit_ * 1.1));
    yAxis_->applyNiceNumbers();
    yAxis_->setLabelFormat(unit_ == 1.0 ? QStringLiteral("%.0f") : QStringLiteral("%.1f"));
    yAxis_->setTitleText(tr("live bytes (%1)").arg(unitName));
    shown_ = -1;
}

void TeachingScopeChart::setStep(const TeachingScript& script, int step) {
    const int n = std::min<int>(int(script.steps.size()), session_->count());
    step = std::min(step, n - 1);
    // Bars up to the current step; later ones stay empty until the lesson gets there.
    const int from = std::min(shown_, step) + 1, to = std::max(shown_, step);
    for (int i = std::max(0, from); i <= to && i < n; ++i) {
        const TeachingStep& s = script.steps[std::size_t(i)];
        session_->replace(i, i <= step ? double(s.sessionBytes) / unit_ : 0.0);
        request_->replace(i, i <= step ? double(s.requestBytes) / unit_ : 0.0);
    }
    shown_ = step;
    session_->deselectAllBars();
    request_->deselectAllBars();
    if (step >= 0) {
        session_->selectBar(step);
        request_->selectBar(step);
    }
}

void TeachingScopeChart::applyPalette() {
    styleChart(chart(), palette(), font(), {xAxis_, yAxis_});
    session_->setColor(sessionScopeColor());
    session_->setBorderColor(sessionScopeColor().darker(120));
    session_->setSelectedColor(sessionScopeColor().lighter(135));
    request_->setColor(requestScopeColor());
    request_->setBorderColor(requestScopeColor().darker(120));
    request_->setSelectedColor(requestScopeColor().lighter(135));
}

void TeachingScopeChart::changeEvent(QEvent* event) {
    QChartView::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) applyPalette();
}

// ---------------------------------------------------------------- what-if growth chart

TeachingGrowthChart::TeachingGrowthChart(QWidget* parent) : QChartView(parent) {
    auto* chart = new QChart;
    chart->setMargins(QMargins(6, 6, 6, 6));
    chart->legend()->setAlignment(Qt::AlignTop);
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->setTitle(tr("What if: live bytes at each request end, same filter, two allocators"));
    setChart(chart);
    setRenderHint(QPainter::Antialiasing, true);
    sessionLine_ = new QLineSeries(chart);
    requestLine_ = new QLineSeries(chart);
    chart->addSeries(sessionLine_);
    chart->addSeries(requestLine_);
    xAxis_ = new QValueAxis(chart);
    xAxis_->setLabelFormat(QStringLiteral("%d"));
    xAxis_->setTitleText(tr("request index within the connection"));
    yAxis_ = new QValueAxis(chart);
    chart->addAxis(xAxis_, Qt::AlignBottom);
    chart->addAxis(yAxis_, Qt::AlignLeft);
    for (QLineSeries* line : {sessionLine_, requestLine_}) {
        line->attachAxis(xAxis_);
        line->attachAxis(yAxis_);
        line->setPointsVisible(true);
    }
    applyPalette();
}

void TeachingGrowthChart::setLines(const std::vector<std::uint64_t>& sessionMemory,
                                   const std::vector<std::uint64_t>& requestMemory) {
    double maxBytes = 1;
    for (const auto* values : {&sessionMemory, &requestMemory})
        for (std::uint64_t v : *values)
            maxBytes = std::max(maxBytes, double(v));
    const auto [unit, unitName] = byteUnit(maxBytes);
    auto fill = [unit = unit](QLineSeries* line, const std::vector<std::uint64_t>& values) {
        QList<QPointF> points;
        for (std::size_t i = 0; i < values.size(); ++i)
            points.append(QPointF(double(i + 1), double(values[i]) / unit));
        line->replace(points);
    };
    fill(sessionLine_, sessionMemory);
    fill(requestLine_, requestMemory);
    auto perRequest = [](const std::vector<std::uint64_t>& v) {
        return v.size() < 2 ? 0.0 : (double(v.back()) - double(v.front())) / double(v.size() - 1);
    };
    sessionLine_->setName(tr("URL copy with AllocMem: %1 per request")
                              .arg(signedBytes(std::int64_t(perRequest(sessionMemory)))));
    requestLine_->setName(
        perRequest(requestMemory) == 0
            ? tr("URL copy with request memory: flat at %1")
                  .arg(formatBytes(requestMemory.empty() ? 0.0 : double(requestMemory.front())))
            : tr("URL copy with request memory: %1 per request")
                  .arg(signedBytes(std::int64_t(perRequest(requestMemory)))));
    const auto n = double(std::max(sessionMemory.size(), requestMemory.size()));
    xAxis_->setRange(0, std::max(2.0, n + 1));
    xAxis_->setTickCount(int(std::max(2.0, n + 1)) + 1);
    yAxis_->setRange(0, maxBytes / unit * 1.1);
    yAxis_->applyNiceNumbers();
    yAxis_->setTitleText(tr("live bytes (%1)").arg(unitName));
}

void TeachingGrowthChart::applyPalette() {
    styleChart(chart(), palette(), font(), {xAxis_, yAxis_});
    sessionLine_->setPen(QPen(sessionScopeColor(), 2));
    sessionLine_->setColor(sessionScopeColor());
    requestLine_->setPen(QPen(requestScopeColor(), 2));
    requestLine_->setColor(requestScopeColor());
}

void TeachingGrowthChart::changeEvent(QEvent* event) {
    QChartView::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) applyPalette();
}

// ---------------------------------------------------------------- the page

TeachingPage::TeachingPage(TraceDocument* document, QWidget* parent)
    : ViewPage(document, parent), model_(new TeachingModel(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);

    auto* top = new QHBoxLayout;
    title_ = new QLabel(this);
    title_->setObjectName(QStringLiteral("teachingTitle"));
    title_->setWordWrap(true);
    QFont titleFont = title_->font();
    titleFont.setBold(true);
    title_->setFont(titleFont);
    top->addWidget(title_, 1);
    top->addWidget(new QLabel(tr("Lesson:"), this));
    sourceBox_ = new QComboBox(this);
    sourceBox_->setObjectName(QStringLiteral("teachingSource"));
    sourceBox_->addItem(tr("built-in example (3 keep-alive requests)"), int(Source::Example));
    sourceBox_->addItem(tr("selected session of the loaded trace"), int(Source::Trace));
    top->addWidget(sourceBox_);
    layout->addLayout(top);

    note_ = new QLabel(this);
    note_->setObjectName(QStringLiteral("teachingNote"));
    note_->setWordWrap(true);
    QFont noteFont = note_->font();
    noteFont.setItalic(true);
    note_->setFont(noteFont);
    layout->addWidget(note_);

    auto* controls = new QHBoxLayout;
    auto button = [&](QStyle::StandardPixmap icon, const QString& text, const QString& tip) {
        auto* b = new QPushButton(style()->standardIcon(icon), text, this);
        b->setToolTip(tip);
        b->setFocusPolicy(Qt::NoFocus); // Space and the arrows are the page's shortcuts
        controls->addWidget(b);
        return b;
    };
    resetButton_ =
        button(QStyle::SP_MediaSkipBackward, tr("Reset"), tr("Back to the start (Home)"));
    backButton_ = button(QStyle::SP_MediaSeekBackward, tr("Step back"), tr("Previous step (Left)"));
    playButton_ = button(QStyle::SP_MediaPlay, tr("Play"), tr("Play or pause (Space)"));
    stepButton_ = button(QStyle::SP_MediaSeekForward, tr("Step"), tr("Next step (Right)"));
    controls->addSpacing(8);
    controls->addWidget(new QLabel(tr("Speed:"), this));
    speed_ = new QComboBox(this);
    speed_->setObjectName(QStringLiteral("teachingSpeed"));
    for (const auto& [label, factor] :
         {std::pair{"0.5×", 0.5}, {"1×", 1.0}, {"2×", 2.0}, {"4×", 4.0}})
        speed_->addItem(QString::fromUtf8(label), int(TeachingModel::kDefaultIntervalMs / factor));
    speed_->setCurrentIndex(1);
    controls->addWidget(speed_);
    controls->addSpacing(8);
    position_ = new QLabel(this);
    position_->setObjectName(QStringLiteral("teachingPosition"));
    controls->addWidget(position_, 1);
    violationButton_ = new QPushButton(style()->standardIcon(QStyle::SP_MessageBoxCritical),
                                       tr("Next violation"), this);
    violationButton_->setFocusPolicy(Qt::NoFocus);
    violationButton_->setToolTip(tr("Go to the next step where the order checker found a "
                                    "violation"));
    controls->addWidget(violationButton_);
    whatIf_ = new QCheckBox(tr("What if the filter used request memory?"), this);
    whatIf_->setObjectName(QStringLiteral("teachingWhatIf"));
    whatIf_->setFocusPolicy(Qt::NoFocus);
    whatIf_->setToolTip(tr("Re-run the built-in example with the URL copy in request memory "
                           "instead of AllocMem, and compare the growth of both"));
    controls->addWidget(whatIf_);
    layout->addLayout(controls);

    splitter_ = new QSplitter(Qt::Horizontal, this);
    diagram_ = new TeachingDiagram(splitter_);
    diagram_->setObjectName(QStringLiteral("teachingDiagram"));
    auto* right = new QWidget(splitter_);
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    scopes_ = new QLabel(right);
    scopes_->setObjectName(QStringLiteral("teachingScopes"));
    scopes_->setTextFormat(Qt::RichText);
    rightLayout->addWidget(scopes_);
    scopeChart_ = new TeachingScopeChart(right);
    scopeChart_->setObjectName(QStringLiteral("teachingScopeChart"));
    scopeChart_->setMinimumHeight(200);
    rightLayout->addWidget(scopeChart_, 3);
    explanation_ = new QTextBrowser(right);
    explanation_->setObjectName(QStringLiteral("teachingExplanation"));
    explanation_->setFocusPolicy(Qt::NoFocus);
    explanation_->setOpenLinks(false);
    explanation_->setMinimumHeight(160);
    rightLayout->addWidget(explanation_, 2);
    growthChart_ = new TeachingGrowthChart(right);
    growthChart_->setObjectName(QStringLiteral("teachingGrowthChart"));
    growthChart_->setMinimumHeight(200);
    growthChart_->hide();
    rightLayout->addWidget(growthChart_, 3);
    splitter_->addWidget(diagram_);
    splitter_->addWidget(right);
    splitter_->setStretchFactor(0, 2);
    splitter_->setStretchFactor(1, 3);
    splitter_->setSizes({620, 780});
    layout->addWidget(splitter_, 1);

    connect(model_, &TeachingModel::scriptChanged, this, &TeachingPage::onScriptChanged);
    connect(model_, &TeachingModel::stepChanged, this, &TeachingPage::onStepChanged);
    connect(model_, &TeachingModel::playingChanged, this, &TeachingPage::onPlayingChanged);
    connect(resetButton_, &QPushButton::clicked, model_, &TeachingModel::reset);
    connect(backButton_, &QPushButton::clicked, model_, &TeachingModel::stepBack);
    connect(stepButton_, &QPushButton::clicked, model_, &TeachingModel::stepForward);
    connect(playButton_, &QPushButton::clicked, model_, &TeachingModel::togglePlay);
    connect(speed_, &QComboBox::currentIndexChanged, this,
            [this] { model_->setInterval(speed_->currentData().toInt()); });
    connect(violationButton_, &QPushButton::clicked, this, &TeachingPage::goToNextViolation);
    connect(whatIf_, &QCheckBox::toggled, this, &TeachingPage::setWhatIf);
    connect(sourceBox_, &QComboBox::currentIndexChanged, this,
            [this] { setSource(static_cast<Source>(sourceBox_->currentData().toInt())); });

    // Active only while this page is visible (a hidden tab's shortcuts do not fire).
    auto shortcut = [this](QKeySequence key, auto slot) {
        auto* s = new QShortcut(key, this);
        s->setContext(Qt::WindowShortcut);
        connect(s, &QShortcut::activated, model_, slot);
    };
    shortcut(QKeySequence(Qt::Key_Space), &TeachingModel::togglePlay);
    shortcut(QKeySequence(Qt::Key_Right), &TeachingModel::stepForward);
    shortcut(QKeySequence(Qt::Key_Left), &TeachingModel::stepBack);
    shortcut(QKeySequence(Qt::Key_Home), &TeachingModel::reset);

    traceChanged();
    onScriptChanged();
}

QChartView* TeachingPage::chartView() {
    return growthChart_->isVisible() ? static_cast<QChartView*>(growthChart_) : scopeChart_;
}

QString TeachingPage::explanationText() const {
    return explanation_->toPlainText();
}

QString TeachingPage::noteText() const {
    return note_->text();
}

void TeachingPage::setStartStep(int step) {
    startStep_ = step;
    model_->setStep(step == kShowcaseStep ? model_->script().showcaseStep() : step);
}

void TeachingPage::setSource(Source source) {
    if (source == Source::Trace && !document()->trace()) source = Source::Example;
    source_ = source;
    {
        const QSignalBlocker block(sourceBox_);
        sourceBox_->setCurrentIndex(sourceBox_->findData(int(source)));
    }
    loadedSession_ = 0;
    if (source == Source::Example) {
        if (model_->script().fromTrace) model_->showExample();
        return;
    }
    if (model_->whatIf()) {
        const QSignalBlocker block(whatIf_);
        whatIf_->setChecked(false);
        growthChart_->hide();
        model_->setWhatIf(false);
    }
    markStale();
}

void TeachingPage::setWhatIf(bool on) {
    {
        const QSignalBlocker block(whatIf_);
        whatIf_->setChecked(on);
    }
    if (on) {
        growthChart_->setLines(model_->sessionMemoryGrowth(), model_->requestMemoryGrowth());
        source_ = Source::Example;
        loadedSession_ = 0;
        const QSignalBlocker block(sourceBox_);
        sourceBox_->setCurrentIndex(sourceBox_->findData(int(Source::Example)));
    }
    growthChart_->setVisible(on);
    model_->setWhatIf(on);
}

void TeachingPage::traceChanged() {
    const TracePtr& trace = document()->trace();
    if (auto* items = qobject_cast<QStandardItemModel*>(sourceBox_->model()))
        items->item(sourceBox_->findData(int(Source::Trace)))->setEnabled(bool(trace));
    loadedSession_ = 0;
    source_ = trace && !model_->whatIf() ? Source::Trace : Source::Example;
    const QSignalBlocker block(sourceBox_);
    sourceBox_->setCurrentIndex(sourceBox_->findData(int(source_)));
    if (source_ == Source::Example && model_->script().fromTrace) model_->showExample();
}

std::uint64_t TeachingPage::lessonSession() const {
    const TracePtr& trace = document()->trace();
    if (!trace) return 0;
    if (!document()->selection().empty()) return document()->selection().front();
    // The first session with enough requests for a whole lesson, else the one with most: a
    // readiness probe's single request teaches little about keep-alive.
    const std::uint32_t wanted = ScriptOptions{}.maxRequests;
    const data::SessionRow* best = nullptr;
    for (const data::SessionRow& s : trace->sessions) {
        if (!best || std::min(s.requests, wanted) > std::min(best->requests, wanted)) best = &s;
        if (best->requests >= wanted) break;
    }
    return best ? best->id : 0;
}

void TeachingPage::refresh() {
    if (source_ != Source::Trace) return;
    if (!document()->trace()) {
        setSource(Source::Example);
        return;
    }
    const std::uint64_t session = lessonSession();
    if (session == 0) {
        setSource(Source::Example);
        note_->setText(tr("The loaded trace has no session; showing the built-in example."));
        note_->show();
        return;
    }
    if (session != loadedSession_) showTraceSession(session);
}

void TeachingPage::showTraceSession(std::uint64_t session) {
    loadedSession_ = session; // also on failure: no retry on every refresh
    try {
        model_->setScript(traceScript(*document()->trace()->reader, session));
    } catch (const std::exception& e) {
        model_->showExample();
        note_->setText(tr("Cannot read session %1: %2. Showing the built-in example.")
                           .arg(session)
                           .arg(QString::fromUtf8(e.what())));
        note_->show();
    }
}

void TeachingPage::onScriptChanged() {
    const TeachingScript& script = model_->script();
    title_->setText(script.title);
    note_->setText(script.note);
    note_->setVisible(!script.note.isEmpty());
    scopeChart_->setScript(script);
    const auto violations = script.violations.size();
    violationButton_->setEnabled(violations > 0);
    violationButton_->setText(violations > 0 ? tr("Next violation (%1)").arg(violations)
                                             : tr("No order violation"));
    if (startStep_ != 0)
        model_->setStep(startStep_ == kShowcaseStep ? script.showcaseStep() : startStep_);
    onStepChanged();
}

void TeachingPage::onStepChanged() {
    const TeachingScript& script = model_->script();
    const int step = model_->step();
    diagram_->setState(&script, step);
    scopeChart_->setStep(script, step);
    explanation_->setHtml(stepExplanation(script, step));
    position_->setText(script.steps.empty()
                           ? tr("No steps")
                           : tr("Step %1 of %2").arg(step + 1).arg(script.steps.size()));
    const TeachingStep* now = model_->current();
    const auto swatch = [](const QColor& c) {
        return QStringLiteral("<span style='color:%1'>■</span>").arg(c.name());
    };
    scopes_->setText(
        tr("%1 connection-scoped: <b>%2</b> &nbsp;&nbsp; %3 request-scoped: <b>%4</b>")
            .arg(swatch(sessionScopeColor()), formatBytes(now ? double(now->sessionBytes) : 0.0),
                 swatch(requestScopeColor()), formatBytes(now ? double(now->requestBytes) : 0.0)));
    backButton_->setEnabled(step > 0);
    stepButton_->setEnabled(step + 1 < model_->stepCount());
}

void TeachingPage::onPlayingChanged(bool playing) {
    playButton_->setText(playing ? tr("Pause") : tr("Play"));
    playButton_->setIcon(
        style()->standardIcon(playing ? QStyle::SP_MediaPause : QStyle::SP_MediaPlay));
}

void TeachingPage::goToNextViolation() {
    const auto& steps = model_->script().steps;
    const int n = int(steps.size());
    for (int k = 1; k <= n; ++k) {
        const int i = (model_->step() + k) % n;
        if (!steps[std::size_t(i)].violations.empty()) {
            model_->pause();
            model_->setStep(i);
            return;
        }
    }
}

} // namespace memlife::ui
