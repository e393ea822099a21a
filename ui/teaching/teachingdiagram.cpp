#include "teaching/teachingdiagram.hpp"

#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>

#include "style/style.hpp"
#include "teaching/teachingstyle.hpp"
#include "teaching/teachingtexts.hpp"

namespace memlife::ui {

namespace {

// Among the notifications, the rows that are not one (dashed): the connection's and the
// request's frame. Without notifications every row is a step of its own.
bool isMarkerSlot(DiagramSlot slot, LessonServer server) {
    return server == LessonServer::Isapi &&
           (slot == DiagramSlot::ConnectionOpen || slot == DiagramSlot::RequestBegin ||
            slot == DiagramSlot::RequestEnd || slot == DiagramSlot::SessionClose);
}

QString slotLabel(DiagramSlot slot, LessonServer server) {
    if (server != LessonServer::Isapi) return lessonFor(slot, server).name;
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

} // namespace

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
    // The model keeps one script and replaces it in place: compare with the rows laid out.
    if (server() != laidOut_ || rects_[std::size_t(DiagramSlot::ConnectionOpen)].isNull())
        layoutRows();
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

LessonServer TeachingDiagram::server() const {
    return script_ ? script_->server : LessonServer::Isapi;
}

void TeachingDiagram::layoutRows() {
    const QFontMetrics fm = fontMetrics();
    const int margin = 8, gap = 6;
    const int titleHeight = fm.height() + 10;
    const int bracketWidth = fm.height() + 12;
    const int fixed = 2 * margin + 2 * titleHeight + 20;
    // The rows of this lesson: the connection's first row, the request's frame, then the
    // connection's rows after it.
    laidOut_ = server();
    const std::vector<DiagramSlot>& rows = diagramRows(laidOut_);
    // A short list (a capture without notifications) gets taller rows: its brackets, as
    // long as its request frame, still hold their words.
    const int tallest = rows.size() < 8 ? 3 * fm.height() + 14 : 2 * fm.height() + 14;
    const int pitch = std::clamp((height() - fixed) / int(rows.size()), fm.height() + 8, tallest);
    const int right = width() - margin - 2 * bracketWidth - 6;
    auto row = [&](int y, int indent) {
        return QRect(margin + indent, y, std::max(40, right - indent - margin - indent / 2),
                     pitch - gap);
    };
    rects_ = {};
    int y = margin;
    connectionFrame_.setTopLeft({margin, y});
    y += titleHeight;
    bool inRequest = false, afterRequest = false;
    for (DiagramSlot slot : rows) {
        if (slot == DiagramSlot::RequestBegin) {
            y += 4;
            requestFrame_.setTopLeft({margin + 12, y});
            y += titleHeight;
            inRequest = true;
        }
        if (afterRequest) {
            requestFrame_.setBottomRight({right - 10, y + 2});
            y += 10;
            afterRequest = false;
        }
        rects_[std::size_t(slot)] = row(y, inRequest ? 24 : 10);
        y += pitch;
        if (slot == DiagramSlot::RequestEnd) inRequest = false, afterRequest = true;
    }
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

QString TeachingDiagram::frameTitle(int width, const QFontMetrics& metrics) const {
    // The long form where it fits, else the short one: never cut.
    auto fitting = [&](const QString& longForm, const QString& shortForm) {
        return metrics.horizontalAdvance(longForm) <= width ? longForm : shortForm;
    };
    const QString pool = server() == LessonServer::Nginx ? tr(" (r->pool)") : QString();
    if (!script_ || script_->steps.empty()) return tr("Each request") + pool;
    const TeachingStep& now = script_->steps[std::size_t(step_)];
    if (now.kind == StepKind::Skipped) return stepCaption(now, server());
    if (now.request == 0)
        return fitting(tr("Each request%1 (keep-alive: %2 on this connection)")
                           .arg(pool)
                           .arg(script_->requestsTotal),
                       tr("Each request (%1 in all)").arg(script_->requestsTotal));
    return fitting(tr("Request %1 of %2%3: this frame repeats for every request")
                       .arg(now.request)
                       .arg(script_->requestsTotal)
                       .arg(pool),
                   tr("Request %1 of %2%3").arg(now.request).arg(script_->requestsTotal).arg(pool));
}

void TeachingDiagram::paintEvent(QPaintEvent*) {
    if (rects_[std::size_t(DiagramSlot::ConnectionOpen)].isNull()) layoutRows();
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
    const QString connectionTitle =
        !script_ || !script_->fromTrace ? tr("Connection (keep-alive)")
        : server() == LessonServer::Nginx
            ? tr("Connection: session %1 (c->pool)").arg(script_->session)
            : tr("Connection: session %1").arg(script_->session);
    p.drawText(
        connectionFrame_.adjusted(10, 4, -10, 0), Qt::AlignLeft | Qt::AlignTop,
        boldMetrics.elidedText(connectionTitle, Qt::ElideRight, connectionFrame_.width() - 20));
    p.drawText(requestFrame_.adjusted(10, 4, -10, 0), Qt::AlignLeft | Qt::AlignTop,
               boldMetrics.elidedText(frameTitle(requestFrame_.width() - 20, boldMetrics),
                                      Qt::ElideRight, requestFrame_.width() - 20));

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
        if (r.isNull()) continue; // not a row of this lesson
        const bool marker = isMarkerSlot(slot, server());
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
        const QString name = slotLabel(slot, server());
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
            // A short chip that always fits; the rule's id and words are in the tooltip and
            // the explanation.
            chip(rules.size() == 1 ? tr("✕ order violation")
                                   : tr("✕ %1 order violations").arg(rules.size()),
                 corruptionColor(), true);
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
    switch (server()) {
    case LessonServer::Isapi:
        bracket(sessionBracket_, sessionScopeColor(), tr("AllocMem (connection memory) lives"));
        bracket(requestBracket_, requestScopeColor(), tr("request memory lives"));
        break;
    case LessonServer::Nginx:
        bracket(sessionBracket_, sessionScopeColor(), tr("c->pool (connection memory) lives"));
        bracket(requestBracket_, requestScopeColor(), tr("r->pool lives"));
        break;
    case LessonServer::Plain:
        bracket(sessionBracket_, sessionScopeColor(), tr("connection memory lives"));
        bracket(requestBracket_, requestScopeColor(), tr("request memory lives"));
        break;
    }
}

bool TeachingDiagram::event(QEvent* event) {
    if (event->type() != QEvent::ToolTip) return QWidget::event(event);
    auto* help = static_cast<QHelpEvent*>(event);
    for (int s = 0; s < kDiagramSlotCount; ++s) {
        if (!rects_[std::size_t(s)].contains(help->pos())) continue;
        const auto slot = static_cast<DiagramSlot>(s);
        const StepLesson lesson = lessonFor(slot, server());
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

} // namespace memlife::ui
