// The base of every page (one page per view). A page presents the TraceDocument; it never
// talks to another page (it asks the window for a view with viewRequested). The registry of
// views is window/viewregistry.hpp.
#pragma once

#include <QString>
#include <QWidget>

class QAbstractItemModel;
class QChartView;

namespace memlife::ui {

class TraceDocument;
struct TraceUpdate;

class ViewPage : public QWidget {
    Q_OBJECT
public:
    ViewPage(TraceDocument* document, QWidget* parent);
    TraceDocument* document() const { return document_; }

    // For File > Export: the chart shown, the table shown (in view order), if any.
    virtual QChartView* chartView() { return nullptr; }
    virtual QAbstractItemModel* tableModel() { return nullptr; }
    // Writes the table shown as CSV; tableExported() follows: at once for a table held in
    // memory, from a job for one streamed from the trace.
    virtual void exportCsv(const QString& file);
    // True while the page still loads what it shows (screenshots wait for it).
    virtual bool isBusy() const { return false; }
    // Splitter positions and the like, for QSettings.
    virtual QByteArray saveLayout() const { return {}; }
    virtual void restoreLayout(const QByteArray&) {}

Q_SIGNALS:
    void viewRequested(const QString& name);
    void busyChanged();
    void tableExported(const QString& file, const QString& error); // error empty: written

protected:
    // A new trace: reset what is cheap (models), at once, visible or not.
    virtual void traceChanged() {}
    // The same trace grew (it is followed while recorded): update in place, keeping the
    // selection, sorting, filters and zoom. By default the page is refreshed (when visible).
    virtual void traceUpdated(const TraceUpdate&) {}
    // Compare mode began, ended or took another base (TraceDocument::baseTrace()).
    virtual void baseChanged() {}
    // Bring expensive content (charts, scans) up to date; called only while visible.
    virtual void refresh() = 0;
    void showEvent(QShowEvent* event) override;
    void markStale();

private:
    TraceDocument* document_;
    bool stale_ = true;
};

} // namespace memlife::ui
