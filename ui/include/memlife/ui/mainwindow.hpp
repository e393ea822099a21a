// The main window: one tab per registered view over a shared TraceDocument, File menu
// (open, recent, drag and drop, exports), the loader's progress and Cancel in the status
// bar, and the layout in QSettings.
#pragma once

#include <QMainWindow>
#include <QPointer>

#include <vector>

class QLabel;
class QMenu;
#include <QMessageBox>
class QProgressBar;
class QPushButton;
class QTabWidget;

namespace memlife::ui {

class TraceDocument;
class TraceLoader;
class ViewPage;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    static constexpr int kMaxRecentFiles = 8;

    // persistent = false: neither read nor write QSettings (screenshots, tests).
    explicit MainWindow(bool persistent = true, QWidget* parent = nullptr);
    ~MainWindow() override;

    void openTrace(const QString& path);
    bool setCurrentView(const QString& name);
    QString currentView() const;
    ViewPage* page(const QString& name) const;
    ViewPage* currentPage() const;
    TraceDocument* document() const { return document_; }
    TraceLoader* loader() const { return loader_; }
    bool isBusy() const; // loading, or the current page still fetching
    QString lastError() const { return lastError_; }
    QMessageBox* errorDialog() const { return errorDialog_; }
    QStringList recentFiles() const;

    bool exportChart(const QString& file, QString* error);
    bool exportTable(const QString& file, QString* error);

Q_SIGNALS:
    void traceLoaded();
    void traceFailed(const QString& message);
    void busyChanged();

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void buildMenus();
    void onLoaded();
    void onFailed(const QString& path, const QString& message);
    void addRecent(const QString& path);
    void fillRecentMenu();
    void updateActions();
    void saveSettings() const;
    void restoreSettings();
    void chooseAndOpen();
    void chooseAndExportChart();
    void chooseAndExportTable();
    void showError(const QString& title, const QString& message);

    bool persistent_;
    TraceDocument* document_;
    TraceLoader* loader_;
    QTabWidget* tabs_;
    std::vector<std::pair<QString, ViewPage*>> pages_;
    QMenu* recentMenu_ = nullptr;
    QAction* exportChartAction_ = nullptr;
    QAction* exportTableAction_ = nullptr;
    QLabel* status_;
    QProgressBar* progress_;
    QPushButton* cancel_;
    QString lastError_;
    QPointer<QMessageBox> errorDialog_;
    QStringList recent_;
};

} // namespace memlife::ui
