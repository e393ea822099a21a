#include "window/mainwindow.hpp"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QChartView>
#include <QCloseEvent>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QScreen>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>
#include <QVBoxLayout>

#include "export/chartexport.hpp"
#include "follow/followcontroller.hpp"
#include "follow/traceupdate.hpp"
#include "memlife/data/reader.hpp"
#include "pages/viewpage.hpp"
#include "style/format.hpp"
#include "style/style.hpp"
#include "window/tracecheck.hpp"
#include "window/tracedocument.hpp"
#include "window/traceloader.hpp"
#include "window/viewregistry.hpp"
#include "window/warningbar.hpp"

namespace memlife::ui {

MainWindow::MainWindow(bool persistent, QWidget* parent)
    : QMainWindow(parent), persistent_(persistent), document_(new TraceDocument(this)),
      loader_(new TraceLoader(this)), baseLoader_(new TraceLoader(this)),
      importer_(new ImportTask(this)), check_(new TraceCheck(this)), warnings_(new WarningBar),
      follow_(new FollowController(this)) {
    setWindowTitle(tr("memlife"));
    setAcceptDrops(true);
    auto* central = new QWidget(this);
    auto* centralLayout = new QVBoxLayout(central);
    centralLayout->setContentsMargins(0, 0, 0, 0);
    centralLayout->setSpacing(0);
    centralLayout->addWidget(warnings_);
    tabs_ = new QTabWidget(central);
    tabs_->setDocumentMode(true);
    for (const ViewInfo& view : views()) {
        ViewPage* page = view.create(document_, tabs_);
        page->setObjectName(view.name + QStringLiteral("Page"));
        tabs_->addTab(page, view.title);
        pages_.emplace_back(view.name, page);
        connect(page, &ViewPage::viewRequested, this, &MainWindow::setCurrentView);
        connect(page, &ViewPage::busyChanged, this, &MainWindow::busyChanged);
        connect(page, &ViewPage::tableExported, this, &MainWindow::tableExported);
    }
    centralLayout->addWidget(tabs_, 1);
    setCentralWidget(central);
    connect(tabs_, &QTabWidget::currentChanged, this, [this] {
        updateActions();
        Q_EMIT busyChanged();
    });

    status_ = new QLabel(tr("Open a trace with File > Open, or drop one on the window."), this);
    status_->setObjectName(QStringLiteral("statusText"));
    progress_ = new QProgressBar(this);
    progress_->setRange(0, 100);
    progress_->setMaximumWidth(220);
    progress_->setVisible(false);
    cancel_ = new QPushButton(tr("Cancel"), this);
    cancel_->setVisible(false);
    followLabel_ = new QLabel(this);
    followLabel_->setObjectName(QStringLiteral("followState"));
    followLabel_->setVisible(false);
    pauseButton_ = new QPushButton(tr("Pause"), this);
    pauseButton_->setObjectName(QStringLiteral("followPauseButton"));
    pauseButton_->setToolTip(tr("Pause: what is shown stays; Resume brings what was recorded "
                                "meanwhile"));
    pauseButton_->setVisible(false);
    connect(pauseButton_, &QPushButton::clicked, this,
            [this] { follow_->setPaused(!follow_->isPaused()); });
    statusBar()->addWidget(status_, 1);
    statusBar()->addPermanentWidget(followLabel_);
    statusBar()->addPermanentWidget(pauseButton_);
    statusBar()->addPermanentWidget(warnings_->statusLabel());
    statusBar()->addPermanentWidget(progress_);
    statusBar()->addPermanentWidget(cancel_);
    cancel_->setObjectName(QStringLiteral("cancelButton"));
    connect(cancel_, &QPushButton::clicked, this, [this] {
        loader_->cancel();
        baseLoader_->cancel();
        importer_->cancel();
    });

    connect(loader_, &TraceLoader::started, this,
            [this](const QString& path) { showProgress(tr("Loading %1…").arg(path)); });
    connect(loader_, &TraceLoader::progressChanged, progress_, &QProgressBar::setValue);
    connect(loader_, &TraceLoader::loaded, this, [this](const TracePtr& trace) {
        check_->stop();
        warnings_->clear();
        damage_.clear();
        document_->setTrace(trace);
        // A trace being recorded grows under the check (its batches would run ahead of the
        // summary it read): checked once its recording has finished.
        checkPending_ = trace->info.recording != data::RecordingState::Live;
        onLoaded();
    });
    // A trace that fails the full check stays open, with the reason above the views and
    // first in the status bar.
    connect(check_, &TraceCheck::damaged, this, [this](const QString& message) {
        damage_ = message;
        warnings_->setWarning(QStringLiteral("damaged"), tr("Damaged trace"),
                              tr("%1. The views show what can be read; what lies in the "
                                 "damaged part is missing from them.")
                                  .arg(message));
        status_->setText(traceSummary());
    });
    connect(check_, &TraceCheck::finished, this, [this] {
        Q_EMIT traceChecked(damage_);
        Q_EMIT busyChanged();
    });
    checkRetry_ = new QTimer(this);
    checkRetry_->setSingleShot(true);
    checkRetry_->setInterval(50);
    connect(checkRetry_, &QTimer::timeout, this, &MainWindow::checkTraceWhenIdle);
    // The check reads the whole trace: it waits until the views have what they asked for.
    connect(this, &MainWindow::busyChanged, this, &MainWindow::checkTraceWhenIdle,
            Qt::QueuedConnection);
    connect(loader_, &TraceLoader::failed, this, &MainWindow::onFailed);
    connect(follow_, &FollowController::changed, this, &MainWindow::onFollowed);
    connect(follow_, &FollowController::pausedChanged, this, &MainWindow::showFollowState);
    connect(follow_, &FollowController::stateChanged, this, &MainWindow::onRecordingEnded);
    connect(follow_, &FollowController::failed, this, [this](const QString& message) {
        status_->setText(tr("Following: %1 (trying again)").arg(message));
    });
    connect(loader_, &TraceLoader::canceled, this, [this](const QString& path) {
        hideProgressIfIdle();
        status_->setText(tr("Loading %1 canceled.").arg(path));
        Q_EMIT busyChanged();
    });

    connect(baseLoader_, &TraceLoader::started, this, [this](const QString& path) {
        showProgress(tr("Loading %1 to compare with…").arg(path));
    });
    connect(baseLoader_, &TraceLoader::progressChanged, progress_, &QProgressBar::setValue);
    connect(baseLoader_, &TraceLoader::loaded, this, [this](const TracePtr& base) {
        hideProgressIfIdle();
        document_->setBaseTrace(base);
        status_->setText(tr("Comparing with %1 (the base): the overview shows both, the growth "
                            "view overlays the base dashed.")
                             .arg(QFileInfo(base->path).fileName()));
        updateTitle();
        updateActions();
        Q_EMIT baseLoaded();
        Q_EMIT busyChanged();
    });
    connect(baseLoader_, &TraceLoader::failed, this,
            [this](const QString&, const QString& message) {
                reportFailure(tr("Cannot compare"), message);
                Q_EMIT baseFailed(message);
                Q_EMIT busyChanged();
            });
    connect(baseLoader_, &TraceLoader::canceled, this, [this](const QString& path) {
        hideProgressIfIdle();
        status_->setText(tr("Loading %1 to compare with canceled.").arg(path));
        Q_EMIT busyChanged();
    });

    connect(importer_, &ImportTask::started, this, [this](const QString& input) {
        showProgress(tr("Importing %1…").arg(input));
        updateActions();
    });
    connect(importer_, &ImportTask::progressChanged, this, [this](int percent) {
        if (percent < 0) {
            progress_->setRange(0, 0); // size unknown (a pipe): a busy indicator
        } else {
            progress_->setRange(0, 100);
            progress_->setValue(percent);
        }
    });
    connect(importer_, &ImportTask::finished, this, &MainWindow::onImported);
    connect(importer_, &ImportTask::failed, this,
            [this](const QString&, const QString& message) { onImportFailed(message); });
    connect(importer_, &ImportTask::canceled, this, [this](const QString& input) {
        hideProgressIfIdle();
        updateActions();
        status_->setText(tr("Import of %1 canceled; no trace written.").arg(input));
        Q_EMIT importCanceled(input);
        Q_EMIT busyChanged();
    });

    connect(this, &MainWindow::tableExported, this, [this](const QString&, const QString& error) {
        if (!error.isEmpty()) showError(tr("Export failed"), error);
    });

    // The growing count follows the growth limit.
    connect(document_, &TraceDocument::maxGrowthChanged, this,
            [this] { status_->setText(traceSummary()); });

    buildMenus();
    fitToScreen();
    if (persistent_) restoreSettings();
    updateActions();
}

MainWindow::~MainWindow() = default;

void MainWindow::checkTraceWhenIdle() {
    if (!checkPending_ || !document_->trace()) return;
    if (loader_->isLoading() || importer_->isRunning() ||
        (currentPage() && currentPage()->isBusy())) {
        checkRetry_->start(); // whether or not the page says when it is done
        return;
    }
    checkPending_ = false;
    check_->start(document_->trace());
    Q_EMIT busyChanged();
}

void MainWindow::fitToScreen() {
    // 1400x900 where there is room; on a smaller screen what it has (the window frame and a
    // panel take some of the available geometry too), centred.
    const QScreen* where = screen() ? screen() : QGuiApplication::primaryScreen();
    const QRect available = where ? where->availableGeometry() : QRect(0, 0, 1400, 900);
    const QSize room = available.size() - QSize(kFrameAllowance, kFrameAllowance);
    resize(QSize(kDefaultWidth, kDefaultHeight).boundedTo(room).expandedTo(minimumSizeHint()));
    move(available.center() - rect().center());
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Open…"), QKeySequence::Open, this, &MainWindow::chooseAndOpen);
    file->addAction(tr("&Follow…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Follow a trace being recorded"),
            recent_.isEmpty() ? QString() : QFileInfo(recent_.front()).path(),
            tr("memlife traces (*.memlife *.trace *.db *.sqlite);;All files (*)"));
        if (!path.isEmpty()) followTrace(path);
    });
    recentMenu_ = file->addMenu(tr("Open &Recent"));
    connect(recentMenu_, &QMenu::aboutToShow, this, &MainWindow::fillRecentMenu);
    compareAction_ = file->addAction(tr("Compare &with…"), this, &MainWindow::chooseAndCompare);
    compareAction_->setObjectName(QStringLiteral("compareAction"));
    compareAction_->setToolTip(tr("Compare the open trace with another one (the base), e.g. "
                                  "the server before a fix"));
    stopComparingAction_ = file->addAction(tr("&Stop Comparing"), this, &MainWindow::stopComparing);
    stopComparingAction_->setObjectName(QStringLiteral("stopComparingAction"));
    QMenu* import = file->addMenu(tr("&Import"));
    importActions_ << import->addAction(tr("&nginx debug log…"), this,
                                        [this] { chooseAndImport(ImportKind::NginxLog); });
    importActions_ << import->addAction(tr("&JSON lines…"), this,
                                        [this] { chooseAndImport(ImportKind::JsonLines); });
    import->addSeparator();
    lenientImportAction_ = import->addAction(tr("&Lenient (skip malformed lines)"));
    lenientImportAction_->setCheckable(true);
    lenientImportAction_->setToolTip(
        tr("Skip and count malformed lines instead of stopping at the first one"));
    file->addSeparator();
    exportChartAction_ =
        file->addAction(tr("Export &Chart (PNG, SVG)…"), this, &MainWindow::chooseAndExportChart);
    exportTableAction_ =
        file->addAction(tr("Export &Table (CSV)…"), this, &MainWindow::chooseAndExportTable);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    int shortcut = 1;
    for (const auto& [name, page] : pages_) {
        const QString viewName = name;
        QAction* action = view->addAction(tabs_->tabText(tabs_->indexOf(page)), this,
                                          [this, viewName] { setCurrentView(viewName); });
        if (shortcut <= 9)
            action->setShortcut(QKeySequence(Qt::ALT | Qt::Key(Qt::Key_0 + shortcut++)));
    }
    view->addSeparator();
    QMenu* palette = view->addMenu(tr("&Palette"));
    auto* group = new QActionGroup(palette);
    for (const QString& name :
         {QStringLiteral("system"), QStringLiteral("light"), QStringLiteral("dark")}) {
        QAction* action = palette->addAction(name, this, [this, name] {
            applyPalette(name);
            if (persistent_) QSettings().setValue(QStringLiteral("palette"), name);
        });
        action->setCheckable(true);
        action->setChecked(currentPaletteName() == name);
        group->addAction(action);
    }
}

void MainWindow::openTrace(const QString& path) {
    lastError_.clear();
    followWaiting_.clear();
    follow_->stop();
    followedOnce_ = false;
    showFollowState();
    loader_->load(path);
}

void MainWindow::followTrace(const QString& path) {
    if (QFileInfo::exists(path)) return openTrace(path); // a live trace is followed on load
    // Not there yet: a recorder is starting (memlife record --gui, serve --gui).
    const bool first = followWaiting_ != path;
    followWaiting_ = path;
    if (first) followWaitedMs_ = 0;
    status_->setText(tr("Waiting for %1 to be recorded…").arg(path));
    constexpr int kStepMs = 200;
    QTimer::singleShot(kStepMs, this, [this, path] {
        if (followWaiting_ != path) return; // something else was opened meanwhile
        followWaitedMs_ += kStepMs;
        if (QFileInfo::exists(path) || followWaitedMs_ >= kFollowWaitMs)
            openTrace(path); // opens it, or says why not
        else
            followTrace(path);
    });
}

QString MainWindow::followState() const {
    if (follow_->isFollowing())
        return follow_->isPaused() ? tr("following (paused)") : tr("following");
    if (!followedOnce_) return {};
    return follow_->state() == data::RecordingState::Interrupted
               ? tr("recording stopped unexpectedly")
               : tr("recording finished");
}

void MainWindow::showFollowState() {
    const QString state = followState();
    const bool active = follow_->isFollowing() && !follow_->isPaused();
    const bool stopped = !follow_->isFollowing() && followedOnce_ &&
                         follow_->state() == data::RecordingState::Interrupted;
    followLabel_->setVisible(!state.isEmpty());
    followLabel_->setText(active ? QStringLiteral("● ") + state : state);
    followLabel_->setStyleSheet(
        active    ? QStringLiteral("QLabel { color: #2e9d3a; font-weight: bold; }")
        : stopped ? QStringLiteral("QLabel { color: #c62828; font-weight: bold; }")
                  : QString());
    pauseButton_->setVisible(follow_->isFollowing());
    pauseButton_->setText(follow_->isPaused() ? tr("Resume") : tr("Pause"));
    Q_EMIT followStateChanged();
}

void MainWindow::onFollowed(const std::shared_ptr<const data::TraceChanges>& changes) {
    if (!document_->trace()) return;
    TraceUpdate update;
    TracePtr next = applyChanges(*document_->trace(), *changes, update);
    document_->updateTrace(std::move(next), update);
    status_->setText(traceSummary());
    Q_EMIT traceUpdated();
}

void MainWindow::onRecordingEnded(data::RecordingState state) {
    if (const TracePtr& trace = document_->trace()) {
        if (state == data::RecordingState::Finished) {
            // The recorder folds its WAL back once every other connection is closed; the
            // finished trace is checked like any other, after that.
            trace->readers->letGo();
            QTimer::singleShot(ReaderPool::kLetGoFor, this, [this, path = trace->path] {
                if (!document_->trace() || document_->trace()->path != path) return;
                checkPending_ = true;
                checkTraceWhenIdle();
            });
        } else if (const std::string note = data::completeness_note(trace->info); !note.empty()) {
            warnings_->setWarning(QStringLiteral("incomplete"), tr("Incomplete recording"),
                                  QString::fromStdString(note));
        }
    }
    status_->setText(traceSummary());
    showFollowState();
}

void MainWindow::compareWith(const QString& path) {
    lastError_.clear();
    baseLoader_->load(path);
}

void MainWindow::stopComparing() {
    if (baseLoader_->isLoading()) baseLoader_->cancel();
    document_->setBaseTrace(nullptr);
    updateTitle();
    updateActions();
}

void MainWindow::updateTitle() {
    const TracePtr& trace = document_->trace();
    const TracePtr& base = document_->baseTrace();
    if (!trace)
        setWindowTitle(tr("memlife"));
    else if (!base)
        setWindowTitle(tr("%1 — memlife").arg(QFileInfo(trace->path).fileName()));
    else
        setWindowTitle(
            tr("%1 compared with %2 — memlife")
                .arg(QFileInfo(trace->path).fileName(), QFileInfo(base->path).fileName()));
}

void MainWindow::showProgress(const QString& text) {
    status_->setText(text);
    progress_->setRange(0, 100);
    progress_->setValue(0);
    progress_->setVisible(true);
    cancel_->setVisible(true);
    Q_EMIT busyChanged();
}

void MainWindow::hideProgressIfIdle() {
    // A load and an import may overlap (an import's result is opened while a trace loads).
    if (loader_->isLoading() || baseLoader_->isLoading() || importer_->isRunning()) return;
    progress_->setVisible(false);
    cancel_->setVisible(false);
}

QString MainWindow::traceSummary() const {
    const TracePtr& trace = document_->trace();
    if (!trace) return {};
    const data::TraceInfo& info = trace->info;
    std::uint64_t leaks = 0, outlived = 0;
    for (const auto& s : trace->sessions) {
        leaks += s.leaks;
        outlived += s.outlived;
    }
    QString text = tr("%1 — %2 sessions · %3 growing > %4/req · %5 corruptions · %6 leaks · "
                      "%7 events · %8")
                       .arg(QFileInfo(trace->path).fileName())
                       .arg(formatCount(trace->sessions.size()))
                       .arg(formatCount(document_->growingSessions()))
                       .arg(formatBytes(document_->maxGrowth()))
                       .arg(formatCount(trace->corruptions.size()))
                       .arg(formatCount(leaks))
                       .arg(formatCount(info.events))
                       .arg(QString::fromStdString(info.source));
    if (outlived != 0) // memlife record
        text += tr(" · %1 blocks outlived their connection").arg(formatCount(outlived));
    if (info.dropped_events)
        text += tr(" · %1 events DROPPED by the recorder").arg(formatCount(info.dropped_events));
    if (const std::uint64_t r = info.time_resolution_ns; r > 1)
        text += tr(" · times to %1: the order is real, times within a step are not")
                    .arg(formatDuration(double(r), r));
    if (!statusPrefix_.isEmpty()) text = statusPrefix_ + QStringLiteral(" — ") + text;
    if (follow_->isFollowing()) return text; // the follow state says it is being recorded
    // What is wrong with the trace comes first: a recording that did not finish (killed,
    // failed, still recording), then damage the full check found.
    if (const std::string note = data::completeness_note(info); !note.empty())
        text = tr("WARNING: %1 — %2").arg(QString::fromStdString(note), text);
    if (!damage_.isEmpty()) text = tr("WARNING: %1 — %2").arg(damage_, text);
    return text;
}

void MainWindow::onLoaded() {
    hideProgressIfIdle();
    const TracePtr& trace = document_->trace();
    statusPrefix_ =
        !importedTrace_.isEmpty() && trace->path == importedTrace_ ? importSummary_ : QString();
    importedTrace_.clear();
    // Being recorded: followed from what the loader read (File > Open, --follow alike).
    if (trace->info.recording == data::RecordingState::Live) {
        follow_->follow(trace->path, trace->cursor, trace->info.recording);
        followedOnce_ = true;
    }
    showFollowState();
    if (const std::string note = data::completeness_note(trace->info);
        !note.empty() && !follow_->isFollowing())
        warnings_->setWarning(QStringLiteral("incomplete"), tr("Incomplete recording"),
                              QString::fromStdString(note));
    status_->setText(traceSummary());
    updateTitle();
    updateActions();
    addRecent(trace->path);
    Q_EMIT traceLoaded();
    Q_EMIT busyChanged();
}

void MainWindow::onFailed(const QString& path, const QString& message) {
    importedTrace_.clear();
    // A recent file that no longer opens leaves the list.
    if (recent_.removeAll(path) && persistent_)
        QSettings().setValue(QStringLiteral("recentFiles"), recent_);
    reportFailure(tr("Cannot open trace"), message);
    Q_EMIT traceFailed(message);
    Q_EMIT busyChanged();
}

bool MainWindow::importFile(ImportKind kind, const QString& input, const QString& output,
                            bool lenient) {
    if (importer_->isRunning()) return false;
    lastError_.clear();
    return importer_->start({kind, input, output, lenient});
}

void MainWindow::onImported(const QString& trace, const data::ImportStats& stats) {
    lastImportStats_ = stats;
    importSummary_ = tr("Imported %1: %2 sessions · %3 events · %4 lines skipped · %5 malformed")
                         .arg(QFileInfo(importer_->request().input).fileName())
                         .arg(formatCount(stats.sessions))
                         .arg(formatCount(stats.events))
                         .arg(formatCount(stats.skipped_lines))
                         .arg(formatCount(stats.malformed_lines));
    importedTrace_ = trace;
    updateActions();
    status_->setText(importSummary_);
    Q_EMIT importFinished(trace);
    openTrace(trace); // the normal load path: its progress, its errors
}

void MainWindow::onImportFailed(const QString& message) {
    updateActions();
    reportFailure(tr("Cannot import"), message);
    Q_EMIT importFailed(message);
    Q_EMIT busyChanged();
}

void MainWindow::reportFailure(const QString& title, const QString& message) {
    hideProgressIfIdle();
    lastError_ = message;
    status_->setText(message);
    showError(title, message);
}

void MainWindow::showError(const QString& title, const QString& message) {
    // Window-modal and opened, not exec()'d: no nested event loop, and a test can find it.
    if (errorDialog_) errorDialog_->close();
    errorDialog_ = new QMessageBox(QMessageBox::Critical, title, message, QMessageBox::Ok, this);
    errorDialog_->setObjectName(QStringLiteral("traceErrorDialog"));
    errorDialog_->setAttribute(Qt::WA_DeleteOnClose);
    errorDialog_->setWindowModality(Qt::WindowModal);
    errorDialog_->open();
}

bool MainWindow::setCurrentView(const QString& name) {
    ViewPage* target = page(name);
    if (!target) return false;
    tabs_->setCurrentWidget(target);
    return true;
}

QString MainWindow::currentView() const {
    for (const auto& [name, page] : pages_)
        if (page == tabs_->currentWidget()) return name;
    return {};
}

ViewPage* MainWindow::page(const QString& name) const {
    for (const auto& [pageName, page] : pages_)
        if (pageName == name) return page;
    return nullptr;
}

ViewPage* MainWindow::currentPage() const {
    return static_cast<ViewPage*>(tabs_->currentWidget());
}

bool MainWindow::isBusy() const {
    return loader_->isLoading() || baseLoader_->isLoading() || importer_->isRunning() ||
           checkPending_ || check_->isRunning() || (currentPage() && currentPage()->isBusy());
}

QStringList MainWindow::recentFiles() const {
    return recent_;
}

void MainWindow::addRecent(const QString& path) {
    const QString absolute = QFileInfo(path).absoluteFilePath();
    recent_.removeAll(absolute);
    recent_.prepend(absolute);
    while (recent_.size() > kMaxRecentFiles)
        recent_.removeLast();
    if (persistent_) QSettings().setValue(QStringLiteral("recentFiles"), recent_);
}

void MainWindow::fillRecentMenu() {
    recentMenu_->clear();
    for (const QString& path : recent_)
        recentMenu_->addAction(path, this, [this, path] { openTrace(path); });
    if (recent_.isEmpty()) recentMenu_->addAction(tr("(none)"))->setEnabled(false);
}

void MainWindow::updateActions() {
    ViewPage* page = currentPage();
    exportChartAction_->setEnabled(page && page->chartView());
    exportTableAction_->setEnabled(page && page->tableModel());
    for (QAction* action : importActions_)
        action->setEnabled(!importer_->isRunning());
    compareAction_->setEnabled(document_->trace() != nullptr);
    stopComparingAction_->setEnabled(document_->baseTrace() != nullptr);
}

bool MainWindow::exportChart(const QString& file, QString* error) {
    ViewPage* page = currentPage();
    if (!page || !page->chartView()) {
        if (error) *error = tr("%1: the current view has no chart").arg(file);
        return false;
    }
    return saveChart(*page->chartView(), file, error);
}

void MainWindow::exportTable(const QString& file) {
    if (ViewPage* page = currentPage())
        page->exportCsv(file);
    else
        Q_EMIT tableExported(file, tr("%1: no view").arg(file));
}

void MainWindow::chooseAndOpen() {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open trace"), recent_.isEmpty() ? QString() : QFileInfo(recent_.front()).path(),
        tr("memlife traces (*.memlife *.trace *.db *.sqlite);;All files (*)"));
    if (!path.isEmpty()) openTrace(path);
}

void MainWindow::chooseAndCompare() {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Compare with (the base trace, e.g. before the fix)"),
        document_->trace() ? QFileInfo(document_->trace()->path).path() : QString(),
        tr("memlife traces (*.memlife *.trace *.mltrace *.db *.sqlite);;All files (*)"));
    if (!path.isEmpty()) compareWith(path);
}

void MainWindow::chooseAndImport(ImportKind kind) {
    const bool nginx = kind == ImportKind::NginxLog;
    const QString input = QFileDialog::getOpenFileName(
        this, nginx ? tr("Import nginx debug log") : tr("Import JSON lines"), QString(),
        nginx ? tr("nginx debug logs (*.log *.log.*);;All files (*)")
              : tr("JSON lines (*.jsonl *.ndjson *.json);;All files (*)"));
    if (input.isEmpty()) return;
    const QString output = QFileDialog::getSaveFileName(this, tr("Save the imported trace as"),
                                                        ImportTask::defaultOutput(input),
                                                        tr("memlife traces (*.memlife)"));
    if (output.isEmpty()) return;
    importFile(kind, input, output, lenientImportAction_->isChecked());
}

void MainWindow::chooseAndExportChart() {
    QString selected;
    const QString file = QFileDialog::getSaveFileName(
        this, tr("Export chart"), currentView() + QStringLiteral(".png"),
        tr("PNG image (*.png);;SVG image (*.svg)"), &selected);
    if (file.isEmpty()) return;
    QString error;
    if (!exportChart(file, &error)) showError(tr("Export failed"), error);
}

void MainWindow::chooseAndExportTable() {
    const QString file = QFileDialog::getSaveFileName(
        this, tr("Export table"), currentView() + QStringLiteral(".csv"), tr("CSV (*.csv)"));
    if (!file.isEmpty()) exportTable(file); // a failure: the dialog from tableExported
}

void MainWindow::saveSettings() const {
    QSettings settings;
    settings.setValue(QStringLiteral("geometry"), saveGeometry());
    settings.setValue(QStringLiteral("windowState"), saveState());
    settings.setValue(QStringLiteral("view"), currentView());
    settings.setValue(QStringLiteral("recentFiles"), recent_);
    settings.setValue(QStringLiteral("maxGrowth"), document_->maxGrowth());
    settings.setValue(QStringLiteral("chartSessions"), int(document_->chartChoice()));
    for (const auto& [name, page] : pages_) {
        const QByteArray layout = page->saveLayout();
        if (!layout.isEmpty()) settings.setValue(QStringLiteral("layout/") + name, layout);
    }
}

void MainWindow::restoreSettings() {
    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("windowState")).toByteArray());
    recent_ = settings.value(QStringLiteral("recentFiles")).toStringList();
    document_->setMaxGrowth(
        settings.value(QStringLiteral("maxGrowth"), document_->maxGrowth()).toDouble());
    const int choice = settings.value(QStringLiteral("chartSessions"), 0).toInt();
    if (choice >= 0 && choice <= int(TraceDocument::ChartChoice::Findings))
        document_->setChartChoice(TraceDocument::ChartChoice(choice));
    for (const auto& [name, page] : pages_) {
        const QByteArray layout = settings.value(QStringLiteral("layout/") + name).toByteArray();
        if (!layout.isEmpty()) page->restoreLayout(layout);
    }
    setCurrentView(settings.value(QStringLiteral("view")).toString());
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (persistent_) saveSettings();
    QMainWindow::closeEvent(event);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    const QMimeData* mime = event->mimeData();
    if (mime->hasUrls() && !mime->urls().isEmpty() && mime->urls().front().isLocalFile())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.isEmpty() || !urls.front().isLocalFile()) return;
    const QString path = urls.front().toLocalFile();
    // A log or JSON-lines file is imported next to itself (never over an existing file).
    if (const std::optional<ImportKind> kind = ImportTask::kindOf(path))
        importFile(*kind, path, ImportTask::unusedOutput(path), lenientImportAction_->isChecked());
    else
        openTrace(path);
    event->acceptProposedAction();
}

} // namespace memlife::ui
