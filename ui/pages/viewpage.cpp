#include "pages/viewpage.hpp"

#include <QAbstractItemModel>

#include "export/csv.hpp"
#include "window/tracedocument.hpp"

namespace memlife::ui {

ViewPage::ViewPage(TraceDocument* document, QWidget* parent)
    : QWidget(parent), document_(document) {
    connect(document_, &TraceDocument::traceChanged, this, [this] {
        traceChanged();
        markStale();
    });
    connect(document_, &TraceDocument::traceUpdated, this, [this](const TraceUpdate& update) {
        traceUpdated(update);
        markStale();
    });
    connect(document_, &TraceDocument::baseChanged, this, [this] {
        baseChanged();
        markStale();
    });
    connect(document_, &TraceDocument::selectionChanged, this, &ViewPage::markStale);
}

void ViewPage::exportCsv(const QString& file) {
    QString error;
    if (QAbstractItemModel* model = tableModel())
        writeCsv(*model, file, &error);
    else
        error = tr("%1: this view has no table").arg(file);
    Q_EMIT tableExported(file, error);
}

void ViewPage::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (stale_) {
        stale_ = false;
        refresh();
    }
}

void ViewPage::markStale() {
    if (isVisible()) {
        stale_ = false;
        refresh();
    } else {
        stale_ = true;
    }
}

} // namespace memlife::ui
