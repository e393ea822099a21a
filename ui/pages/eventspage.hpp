// The event log: every event of the trace or of the selected session, optionally of one
// kind, streamed by the EventLogModel.
#pragma once

#include "pages/viewpage.hpp"

class QComboBox;
class QLabel;
class QTableView;

namespace memlife::ui {

class EventLogModel;

class EventsPage : public ViewPage {
    Q_OBJECT
public:
    EventsPage(TraceDocument* document, QWidget* parent);
    QAbstractItemModel* tableModel() override;
    void exportCsv(const QString& file) override;
    bool isBusy() const override;
    EventLogModel* model() const { return model_; }
    QComboBox* kindFilter() const { return kind_; }

protected:
    void traceChanged() override;
    void refresh() override;

private:
    void updateCount();

    EventLogModel* model_;
    QComboBox* kind_;
    QComboBox* scope_;
    QLabel* count_;
    QString readError_; // the events could not be read (shown in place of the count)
    QTableView* table_;
};

} // namespace memlife::ui
