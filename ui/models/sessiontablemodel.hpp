// What every table with one row per session shares (the sessions table, the leak
// suspects): rows pointing into the loaded trace's sessions, the roles (SessionIdRole,
// ProblemRole, SortRole on each column), the findings' icons, tints and tooltips
// (corruptions, leaks, growth above the limit) and alignment. A model on top says which
// sessions, in which order, and which columns.
#pragma once

#include <QAbstractTableModel>

#include <unordered_map>
#include <vector>

#include "models/itemroles.hpp"
#include "window/loadedtrace.hpp"

namespace memlife::ui {

class SessionTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    // One column: its header, what SortRole and DisplayRole give for a session.
    struct Column {
        const char* title; // translated in this class' context
        QVariant (*sort)(const data::SessionRow& session, const LoadedTrace& trace);
        QString (*text)(const data::SessionRow& session, const LoadedTrace& trace);
        const char* toolTip = nullptr; // of the header, if any
        Qt::Alignment alignment = Qt::AlignRight;
    };
    // The columns both tables show.
    static Column idColumn(const char* title);
    static Column peerColumn();
    static Column requestsColumn();
    static Column peakColumn();
    static Column growthColumn();

    const data::SessionRow* row(int row) const;

    // Growth per request above this many bytes is a finding (data::grows_beyond): the
    // growth icon, tint and tooltip, and ProblemRole. Default data::kDefaultMaxGrowth.
    void setMaxGrowth(double bytesPerRequest);
    double maxGrowth() const { return maxGrowth_; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

protected:
    struct Options {
        bool tintCorruptions = true; // else only leaks tint the row
        bool rowToolTips = true;     // "Session 3: 1 corruption(s), ..." on problem rows
        bool rankHeader = false;     // the vertical header numbers the rows 1, 2, ...
    };
    SessionTableModel(std::vector<Column> columns, Options options, QObject* parent);
    // The trace and the sessions shown, in order (pointers into trace->sessions). inPlace
    // (the same trace, grown: follow/): rows still shown keep their place and are updated,
    // rows no longer shown are removed, new ones appended (in the order of `rows`), so that
    // views keep their selection, sorting and scroll position; else the model resets.
    void setRows(TracePtr trace, std::vector<const data::SessionRow*> rows, bool inPlace = false);
    const TracePtr& trace() const { return trace_; }

private:
    // "Session 3: grows by 422 B per request (the limit is 64 B)...; 2 corruption(s)".
    QString findingsText(const data::SessionRow& s) const;
    void updateRows(TracePtr trace, const std::vector<const data::SessionRow*>& rows);
    // updateRows when `rows` starts with the rows shown, in order (the sessions table; the
    // others after removing what goes).
    void appendRows(TracePtr trace, const std::vector<const data::SessionRow*>& rows);

    std::vector<Column> columns_;
    Options options_;
    TracePtr trace_;
    std::vector<const data::SessionRow*> rows_;
    double maxGrowth_;
};

} // namespace memlife::ui
