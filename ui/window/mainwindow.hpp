// The main window: one tab per registered view over a shared TraceDocument, File menu
// The main window: one tab per registered view over a shared TraceDocument, File menu
// (open, follow, recent, compare with, import, drag and drop, exports), the loaders' and the
// importer's progress and Cancel in the status bar, following a trace being recorded (the
// state and Pause/Resume in the status bar), and the layout in QSettings.
#pragma once

#include <QMainWindow>
#include <QMessageBox>
#include <QPointer>

#include <memory>
#include <vector>

#include "memlife/data/follow.hpp"
#include "memlife/data/import.hpp"
#include "window/importtask.hpp"

class QLabel;
class QMenu;
class QProgressBar;
class QPushButton;
class QTabWidget;
class QTimer;

namespace memlife::ui {

class FollowController;
class TraceCheck;
class TraceDocument;
class TraceLoader;
class ViewPage;
class WarningBar;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    static constexpr int kMaxRecentFiles = 8;
    static constexpr int kDefaultWidth = 1400, kDefaultHeight = 900; // screens permitting

    // persistent = false: neither read nor write QSettings (screenshots, tests).
    explicit MainWindow(bool persistent = true, QWidget* parent = nullptr);
    ~MainWindow() override;

    // Opens a trace; one that is being recorded is followed (follow/followcontroller.hpp).
    void openTrace(const QString& path);
    // Opens `path` and follows it while it is recorded (--follow, File > Follow); a trace
    // that does not exist yet is waited for (up to kFollowWaitMs: a recorder starting).
    static constexpr int kFollowWaitMs = 30000;
    void followTrace(const QString& path);
    FollowController* follower() const { return follow_; }
    // "following", "following (paused)", "recording finished", "recording stopped
    // unexpectedly", or "" for a trace that was never followed.
    QString followState() const;
    // Compare mode (File > Compare with...): loads `path` in a job as the base the open trace
    // is compared with; baseLoaded() or baseFailed() follows. stopComparing() leaves it.
    void compareWith(const QString& path);
    void stopComparing();
    bool setCurrentView(const QString& name);
    QString currentView() const;
    ViewPage* page(const QString& name) const;
    ViewPage* currentPage() const;
    TraceDocument* document() const { return document_; }
    TraceLoader* loader() const { return loader_; }
    TraceLoader* baseLoader() const { return baseLoader_; }
    ImportTask* importer() const { return importer_; }
    // The warnings about the open trace (above the views and in the status bar); cleared
    // when another trace is opened.
    WarningBar* warnings() const { return warnings_; }
    // Loading (a trace or compare mode's base), importing, the current page still fetching, or the
    // open trace's batches being checked (once, when nothing else runs).
    bool isBusy() const;
    QString lastError() const { return lastError_; }
    // What the full check of the open trace found ("" while it runs or when it passed): a
    // trace that opened but whose event batches contradict its summary (TraceReader::verify).
    QString damage() const { return damage_; }
    QMessageBox* errorDialog() const { return errorDialog_; }
    QStringList recentFiles() const;

    // Imports `input` into a new trace `output` on a worker thread (what File > Import does
    // after its dialogs), then opens the trace; a failure shows the error dialog and leaves
    // the open trace as it is. Returns false while another import runs.
    bool importFile(ImportKind kind, const QString& input, const QString& output, bool lenient);
    // The counts of the last successful import.
    const data::ImportStats& lastImportStats() const { return lastImportStats_; }
    QAction* lenientImportAction() const { return lenientImportAction_; }

    bool exportChart(const QString& file, QString* error);
    // Writes the current view's table as CSV (the event log in a job); tableExported()
    // follows, with a one-line error if it failed.
    void exportTable(const QString& file);

Q_SIGNALS:
    void traceLoaded();
    void traceFailed(const QString& message);
    void baseLoaded();
    void baseFailed(const QString& message);
    void traceChecked(const QString& damage); // the full check ended ("" = consistent)
    void busyChanged();
    void importFinished(const QString& trace); // the trace is being opened next
    void importFailed(const QString& message);
    void importCanceled(const QString& input);
    void tableExported(const QString& file, const QString& error); // error empty: written
    void traceUpdated();       // a followed trace grew and every view has its changes
    void followStateChanged(); // following, paused, finished or stopped unexpectedly

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    static constexpr int kFrameAllowance = 40; // the window frame, around the geometry
    void fitToScreen();
    void buildMenus();
    void checkTraceWhenIdle();
    void onLoaded();
    // The status bar's line for the trace: its counts (growing sessions by the current limit).
    QString traceSummary() const;
    void onFollowed(const std::shared_ptr<const data::TraceChanges>& changes);
    void onRecordingEnded(data::RecordingState state);
    void showFollowState();
    void onFailed(const QString& path, const QString& message);
    void onImported(const QString& trace, const data::ImportStats& stats);
    void onImportFailed(const QString& message);
    void showProgress(const QString& text);
    void hideProgressIfIdle();
    void addRecent(const QString& path);
    void fillRecentMenu();
    void updateActions();
    void saveSettings() const;
    void restoreSettings();
    void chooseAndOpen();
    void chooseAndCompare();
    void updateTitle();
    void chooseAndImport(ImportKind kind);
    void chooseAndExportChart();
    void chooseAndExportTable();
    void showError(const QString& title, const QString& message);
    // A failed load or import: the progress goes, the message in the status bar and a dialog.
    void reportFailure(const QString& title, const QString& message);

    bool persistent_;
    TraceDocument* document_;
    TraceLoader* loader_;
    TraceLoader* baseLoader_; // compare mode's base
    ImportTask* importer_;
    TraceCheck* check_;
    bool checkPending_ = false; // the open trace's batches are still to be checked
    QTimer* checkRetry_ = nullptr;
    WarningBar* warnings_;
    QTabWidget* tabs_;
    std::vector<std::pair<QString, ViewPage*>> pages_;
    QMenu* recentMenu_ = nullptr;
    QAction* exportChartAction_ = nullptr;
    QAction* exportTableAction_ = nullptr;
    QAction* compareAction_ = nullptr;
    QAction* stopComparingAction_ = nullptr;
    QList<QAction*> importActions_;
    QAction* lenientImportAction_ = nullptr;
    QLabel* status_;
    QProgressBar* progress_;
    QPushButton* cancel_;
    FollowController* follow_;
    QLabel* followLabel_;
    QPushButton* pauseButton_;
    QString followWaiting_; // followTrace() waits for this trace to appear
    int followWaitedMs_ = 0;
    bool followedOnce_ = false; // the open trace was followed (its end is worth saying)
    QString lastError_;
    QPointer<QMessageBox> errorDialog_;
    QStringList recent_;
    data::ImportStats lastImportStats_;
    QString importedTrace_; // the trace an import just wrote, until it is loaded
    QString importSummary_; // its counts, shown with the trace's summary
    QString damage_;
    QString statusPrefix_; // the import summary of the trace shown, if it was just imported
};

} // namespace memlife::ui
