#include "teaching/teachingpage.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QPushButton>
#include <QShortcut>
#include <QSignalBlocker>
#include <QSplitter>
#include <QStandardItemModel>
#include <QStyle>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <algorithm>

#include "memlife/data/trace.hpp"
#include "style/format.hpp"
#include "teaching/teachingdiagram.hpp"
#include "teaching/teachinggrowthchart.hpp"
#include "teaching/teachingscopechart.hpp"
#include "teaching/teachingstyle.hpp"
#include "teaching/teachingtexts.hpp"
#include "window/tracedocument.hpp"

namespace memlife::ui {

TeachingPage::TeachingPage(TraceDocument* document, QWidget* parent)
    : ViewPage(document, parent), model_(new TeachingModel(this)), scriptJob_(this) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);

    // Three rows, so that nothing is cut on a 1024-pixel screen: the title; the lesson and
    // the what-if; the player.
    title_ = new QLabel(this);
    title_->setObjectName(QStringLiteral("teachingTitle"));
    title_->setWordWrap(true);
    QFont titleFont = title_->font();
    titleFont.setBold(true);
    title_->setFont(titleFont);
    layout->addWidget(title_);
    auto* lesson = new QHBoxLayout;
    lesson->addWidget(new QLabel(tr("Lesson:"), this));
    sourceBox_ = new QComboBox(this);
    sourceBox_->setObjectName(QStringLiteral("teachingSource"));
    sourceBox_->addItem(tr("built-in example (3 keep-alive requests)"), int(Source::Example));
    sourceBox_->addItem(tr("selected session of the loaded trace"), int(Source::Trace));
    lesson->addWidget(sourceBox_);
    lesson->addSpacing(12);
    whatIf_ = new QCheckBox(tr("What if the filter used request memory?"), this);
    whatIf_->setObjectName(QStringLiteral("teachingWhatIf"));
    whatIf_->setFocusPolicy(Qt::NoFocus);
    whatIf_->setToolTip(tr("Re-run the built-in example with the URL copy in request memory "
                           "instead of AllocMem, and compare the growth of both"));
    lesson->addWidget(whatIf_);
    lesson->addStretch(1);
    layout->addLayout(lesson);

    note_ = new QLabel(this);
    note_->setObjectName(QStringLiteral("teachingNote"));
    note_->setWordWrap(true);
    QFont noteFont = note_->font();
    noteFont.setItalic(true);
    note_->setFont(noteFont);
    layout->addWidget(note_);

    auto* controls = new QHBoxLayout;
    auto button = [&](QStyle::StandardPixmap icon, const QString& text, const QString& tip) {
        auto* b = new QPushButton(text, this);
        icons_.emplace_back(b, icon);
        b->setToolTip(tip);
        b->setFocusPolicy(Qt::NoFocus); // Space and the arrows are the page's shortcuts
        controls->addWidget(b);
        return b;
    };
    resetButton_ =
        button(QStyle::SP_MediaSkipBackward, tr("Reset"), tr("Back to the start (Home)"));
    backButton_ = button(QStyle::SP_MediaSeekBackward, tr("Back"), tr("Previous step (Left)"));
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
    layout->addLayout(controls);
    applyIcons();

    splitter_ = new QSplitter(Qt::Horizontal, this);
    diagram_ = new TeachingDiagram(splitter_);
    diagram_->setObjectName(QStringLiteral("teachingDiagram"));
    auto* right = new QWidget(splitter_);
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    scopes_ = new QLabel(right);
    scopes_->setObjectName(QStringLiteral("teachingScopes"));
    scopes_->setTextFormat(Qt::RichText);
    scopes_->setWordWrap(true); // the chart's legend: never cut
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

bool TeachingPage::isBusy() const {
    return scriptJob_.isRunning();
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
    scriptJob_.discard(); // a session read for the lesson before is stale
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
        scriptJob_.discard(); // a session read for the lesson before is stale
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
    scriptJob_.discard(); // a session read for the lesson before is stale
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
    scriptJob_.start<TeachingScript>({
        .work =
            [readers = document()->trace()->readers, session](const JobControl&) {
                return readers->use([session](const data::TraceReader& reader) {
                    return traceScript(reader, session);
                });
            },
        .done =
            [this](TeachingScript script) {
                model_->setScript(std::move(script));
                Q_EMIT busyChanged();
            },
        .failed =
            [this, session](const QString& message) {
                model_->showExample();
                note_->setText(tr("Cannot read session %1: %2. Showing the built-in example.")
                                   .arg(session)
                                   .arg(message));
                note_->show();
                Q_EMIT busyChanged();
            },
    });
    Q_EMIT busyChanged();
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
    // Each scope on one unbroken line (the label wraps between the two, never inside one).
    const auto unbroken = [](const QString& text) {
        return text.toHtmlEscaped()
            .replace(QLatin1Char(' '), QStringLiteral("&nbsp;"))
            .replace(QLatin1Char('-'), QStringLiteral("&#8209;"));
    };
    const ScopeNames names = scopeNames(script.server);
    scopes_->setText(
        tr("%1&nbsp;%2,&nbsp;%3:&nbsp;<b>%4</b> &nbsp;&nbsp; %5&nbsp;%6,&nbsp;%7:&nbsp;<b>%8</b>")
            .arg(swatch(sessionScopeColor()), unbroken(names.session), unbroken(names.sessionLives),
                 unbroken(formatBytes(now ? double(now->sessionBytes) : 0.0)),
                 swatch(requestScopeColor()), unbroken(names.request), unbroken(names.requestLives),
                 unbroken(formatBytes(now ? double(now->requestBytes) : 0.0))));
    backButton_->setEnabled(step > 0);
    stepButton_->setEnabled(step + 1 < model_->stepCount());
}

void TeachingPage::onPlayingChanged(bool playing) {
    playButton_->setText(playing ? tr("Pause") : tr("Play"));
    for (auto& [button, icon] : icons_)
        if (button == playButton_) icon = playing ? QStyle::SP_MediaPause : QStyle::SP_MediaPlay;
    applyIcons();
}

void TeachingPage::applyIcons() {
    // The style's media icons are drawn black: on a dark palette they would vanish. Each is
    // recoloured in the button text's colour (and the disabled one for a disabled button).
    const int size = style()->pixelMetric(QStyle::PM_ButtonIconSize);
    for (const auto& [button, which] : icons_) {
        const QPixmap shape = style()->standardIcon(which).pixmap(size, size);
        QIcon icon;
        for (const auto& [mode, group] :
             {std::pair{QIcon::Normal, QPalette::Active}, {QIcon::Disabled, QPalette::Disabled}}) {
            QPixmap tinted(shape.size());
            tinted.setDevicePixelRatio(shape.devicePixelRatio());
            tinted.fill(Qt::transparent);
            QPainter p(&tinted);
            p.drawPixmap(0, 0, shape);
            p.setCompositionMode(QPainter::CompositionMode_SourceIn);
            p.fillRect(tinted.rect(), palette().color(group, QPalette::ButtonText));
            p.end();
            icon.addPixmap(tinted, mode);
        }
        button->setIcon(icon);
    }
}

void TeachingPage::changeEvent(QEvent* event) {
    ViewPage::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::StyleChange)
        applyIcons();
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
