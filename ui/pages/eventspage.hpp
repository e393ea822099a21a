// The event log: every event of the trace or of the selected session, optionally of one
// kind and only those a search finds, streamed by the EventLogModel (the search runs in its
// jobs, over the whole trace).
#pragma once

#include "pages/viewpage.hpp"

class QComboBox;
class QLabel;
class QLineEdit;
class QTimer;
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
    static constexpr int kSearchDelayMs = 300;
    EventLogModel* model() const { return model_; }
    QComboBox* kindFilter() const { return kind_; }
    QLineEdit* searchBox() const { return search_; }
    // Types `text` into the search box and searches at once (no typing pause).
    void setSearch(const QString& text);

protected:
    void traceChanged() override;
    void traceUpdated(const TraceUpdate& update) override;
    void refresh() override;

private:
    void updateCount();

    EventLogModel* model_;
    QLineEdit* search_;
    QTimer* searchDelay_;
    QComboBox* kind_;
    QComboBox* scope_;
    QLabel* count_;
    QString readError_; // the events could not be read (shown in place of the count)
    QTableView* table_;
};

} // namespace memlife::ui
