#include "memlife/ui/viewpage.hpp"

#include <QAbstractItemModel>

#include "memlife/ui/csv.hpp"
#include "memlife/ui/tracedocument.hpp"

namespace memlife::ui {

std::vector<ViewInfo> builtinViews(); // pages.cpp

ViewPage::ViewPage(TraceDocument* document, QWidget* parent)
    : QWidget(parent), document_(document) {
    connect(document_, &TraceDocument::traceChanged, this, [this] {
        traceChanged();
        markStale();
    });
    connect(document_, &TraceDocument::selectionChanged, this, &ViewPage::markStale);
}

bool ViewPage::exportCsv(const QString& file, QString* error) {
    QAbstractItemModel* model = tableModel();
    if (!model) {
        if (error) *error = tr("%1: this view has no table").arg(file);
        return false;
    }
    return writeCsv(*model, file, error);
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

namespace {
std::vector<ViewInfo>& registry() {
    static std::vector<ViewInfo> list = builtinViews();
    return list;
}
} // namespace

const std::vector<ViewInfo>& views() {
    return registry();
}

void registerView(ViewInfo view) {
    for (ViewInfo& existing : registry())
        if (existing.name == view.name) {
            existing = std::move(view);
            return;
        }
    registry().push_back(std::move(view));
}

QStringList viewNames() {
    QStringList names;
    for (const ViewInfo& v : views())
        names << v.name;
    return names;
}

} // namespace memlife::ui
