#include "models/eventlogmodel.hpp"

#include <QElapsedTimer>
#include <QMetaObject>
#include <QSaveFile>

#include <climits>

#include "export/csv.hpp"
#include "models/itemroles.hpp"
#include "style/format.hpp"
#include "style/style.hpp"

namespace memlife::ui {

namespace {
constexpr qint64 kProgressIntervalMs = 100;
constexpr std::uint64_t kMaxRows = INT_MAX; // QAbstractItemModel rows are ints
} // namespace

EventLogModel::EventLogModel(QObject* parent) : QAbstractTableModel(parent) {}

EventLogModel::~EventLogModel() {
    tasks_.stopAll();
    tasks_.wait();
}

bool EventLogModel::matches(const Event& event) const {
    return !kind_ || event.kind == *kind_;
}

void EventLogModel::setSource(TracePtr trace, std::optional<std::uint64_t> session,
                              std::optional<EventKind> kind) {
    tasks_.stopAll();
    beginResetModel();
    trace_ = std::move(trace);
    session_ = session;
    kind_ = kind;
    rows_ = 0;
    window_.clear();
    window_.shrink_to_fit();
    windowStart_ = 0;
    wantedRow_ = -1;
    fetching_ = false;
    endResetModel();
    const std::uint64_t generation = ++generation_;
    counting_ = static_cast<bool>(trace_);
    if (!trace_) {
        Q_EMIT countingFinished();
        return;
    }

    const std::string path = trace_->path.toStdString();
    tasks_.run([this, path, session, kind, generation](const std::atomic<bool>& stop) {
        // The first window is collected during the count, so the top rows show at once.
        std::vector<Event> first;
        first.reserve(kWindow);
        std::uint64_t count = 0;
        std::size_t posted = 0;
        auto post = [&](bool done, const QString& error) {
            std::shared_ptr<std::vector<Event>> head;
            if (first.size() != posted) head = std::make_shared<std::vector<Event>>(first);
            posted = first.size();
            QMetaObject::invokeMethod(
                this,
                [this, generation, count, head, done, error] {
                    if (generation != generation_) return;
                    appendCounted(count);
                    if (head && windowStart_ == 0 && head->size() > window_.size()) {
                        window_ = *head;
                        Q_EMIT dataChanged(index(0, 0), index(static_cast<int>(window_.size()) - 1,
                                                              ColumnCount - 1));
                    }
                    if (!done) return;
                    counting_ = false;
                    if (!error.isEmpty()) Q_EMIT failed(error);
                    Q_EMIT countingFinished();
                },
                Qt::QueuedConnection);
        };
        QElapsedTimer sincePost;
        sincePost.start();
        QString error;
        try {
            data::TraceReader reader(path);
            if (!kind) { // every event: the batch rows know how many, only the top is decoded
                count = std::min(reader.event_count(session), kMaxRows);
                reader.for_each_event(
                    [&](const Event& event) {
                        first.push_back(event);
                        return !stop.load(std::memory_order_relaxed) &&
                               first.size() < static_cast<std::size_t>(kWindow);
                    },
                    session);
            } else {
                reader.for_each_event(
                    [&](const Event& event) {
                        if (event.kind != *kind) return !stop.load(std::memory_order_relaxed);
                        if (first.size() < static_cast<std::size_t>(kWindow))
                            first.push_back(event);
                        ++count;
                        if ((count & 4095) == 0 && sincePost.elapsed() >= kProgressIntervalMs) {
                            post(false, {});
                            sincePost.restart();
                        }
                        return !stop.load(std::memory_order_relaxed) && count < kMaxRows;
                    },
                    session);
            }
        } catch (const std::exception& e) {
            error = QString::fromUtf8(e.what());
        }
        if (!stop) post(true, error);
    });
}

void EventLogModel::appendCounted(std::uint64_t total) {
    const int target = static_cast<int>(std::min(total, kMaxRows));
    if (target <= rows_) return;
    beginInsertRows({}, rows_, target - 1);
    rows_ = target;
    endInsertRows();
}

const Event* EventLogModel::eventAt(int row) const {
    const int offset = row - windowStart_;
    if (offset < 0 || offset >= static_cast<int>(window_.size())) return nullptr;
    return &window_[static_cast<std::size_t>(offset)];
}

void EventLogModel::requestWindow(int row) const {
    wantedRow_ = row;
    if (fetchQueued_) return;
    fetchQueued_ = true;
    // data() is const and may be called while painting: the fetch starts from the event loop.
    auto* self = const_cast<EventLogModel*>(this);
    QMetaObject::invokeMethod(
        self,
        [self] {
            self->fetchQueued_ = false;
            if (self->wantedRow_ >= 0 && !self->fetching_) self->startFetch(self->wantedRow_);
        },
        Qt::QueuedConnection);
}

void EventLogModel::startFetch(int row) {
    if (eventAt(row) || row >= rows_ || !trace_) {
        wantedRow_ = -1;
        return;
    }
    fetching_ = true;
    const int start = std::max(0, row - kWindow / 4);
    const std::uint64_t generation = generation_;
    const std::string path = trace_->path.toStdString();
    const auto session = session_;
    const auto kind = kind_;
    tasks_.run([this, path, session, kind, start, generation](const std::atomic<bool>& stop) {
        auto events = std::make_shared<std::vector<Event>>();
        events->reserve(kWindow);
        QString error;
        try {
            data::TraceReader reader(path);
            // Without a kind filter, row r is the stream's event r: the reader seeks there.
            // With one, rows are counted from the start.
            const std::uint64_t skip = kind ? 0 : static_cast<std::uint64_t>(start);
            std::int64_t position = static_cast<std::int64_t>(skip);
            reader.for_each_event(
                [&](const Event& event) {
                    if (kind && event.kind != *kind) return !stop.load(std::memory_order_relaxed);
                    if (position++ >= start) events->push_back(event);
                    return !stop.load(std::memory_order_relaxed) &&
                           events->size() < static_cast<std::size_t>(kWindow);
                },
                session, skip);
        } catch (const std::exception& e) {
            error = QString::fromUtf8(e.what());
        }
        if (stop) return;
        QMetaObject::invokeMethod(
            this,
            [this, events, start, generation, error] {
                if (generation != generation_) return;
                fetching_ = false;
                if (!error.isEmpty()) {
                    wantedRow_ = -1;
                    Q_EMIT failed(error);
                    return;
                }
                window_ = std::move(*events);
                windowStart_ = start;
                const int last = std::min(rows_, start + static_cast<int>(window_.size())) - 1;
                if (last >= start)
                    Q_EMIT dataChanged(index(start, 0), index(last, ColumnCount - 1));
                Q_EMIT windowLoaded();
                if (wantedRow_ >= 0 && !eventAt(wantedRow_) && wantedRow_ < rows_)
                    startFetch(wantedRow_);
                else
                    wantedRow_ = -1;
            },
            Qt::QueuedConnection);
    });
}

int EventLogModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : rows_;
}

int EventLogModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QStringList EventLogModel::rowText(const Event& e) const {
    const std::uint64_t first = trace_ ? trace_->firstNs() : 0;
    const double seconds = double(e.time_ns - std::min(first, e.time_ns)) / 1e9;
    const bool hasBlock = e.kind == EventKind::Alloc || e.kind == EventKind::Release ||
                          e.kind == EventKind::Corruption || e.kind == EventKind::Leak;
    const bool hasCount = e.kind == EventKind::RequestEnd || e.kind == EventKind::SessionClose;
    QString size;
    if (hasBlock || hasCount || e.kind == EventKind::Drop) size = formatCount(e.size);
    return {QString(),
            QStringLiteral("%1 s").arg(seconds, 0, 'f', 6),
            QString::number(e.session),
            e.request ? QString::number(e.request) : QStringLiteral("-"),
            eventKindName(e.kind),
            notificationName(e.notification),
            hasBlock   ? QString::number(e.block)
            : hasCount ? tr("%1 blocks").arg(e.block)
                       : QString(),
            size,
            hasBlock ? scopeName(e.scope) : QString(),
            hasBlock ? formatAddress(e.address) : QString()};
}

QVariant EventLogModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Event* event = eventAt(index.row());
    if (!event) {
        if (role != Qt::DisplayRole) return {};
        requestWindow(index.row());
        if (index.column() == Index) return QString::number(index.row() + 1);
        return index.column() == Time ? QStringLiteral("…") : QString();
    }
    const bool corruption = event->kind == EventKind::Corruption;
    const bool leak = event->kind == EventKind::Leak;
    switch (role) {
    case Qt::DisplayRole:
        if (index.column() == Index) return QString::number(index.row() + 1);
        return rowText(*event).at(index.column());
    case SessionIdRole:
        return QVariant::fromValue<qulonglong>(event->session);
    case BlockIdRole:
        return QVariant::fromValue<qulonglong>(event->block);
    case ProblemRole:
        return corruption || leak;
    case Qt::TextAlignmentRole:
        switch (index.column()) {
        case Kind:
        case Notification:
        case Scope:
        case Address:
            return QVariant(Qt::AlignLeft | Qt::AlignVCenter);
        default:
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        }
    case Qt::DecorationRole:
        if (index.column() == Kind && corruption) return corruptionIcon();
        if (index.column() == Kind && leak) return leakIcon();
        return {};
    case Qt::BackgroundRole:
        if (corruption) return rowTint(corruptionColor());
        if (leak) return rowTint(leakColor());
        return {};
    }
    return {};
}

QVariant EventLogModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole || section < 0 ||
        section >= ColumnCount)
        return {};
    static const char* const titles[] = {QT_TR_NOOP("#"),       QT_TR_NOOP("Time"),
                                         QT_TR_NOOP("Session"), QT_TR_NOOP("Request"),
                                         QT_TR_NOOP("Kind"),    QT_TR_NOOP("Notification"),
                                         QT_TR_NOOP("Block"),   QT_TR_NOOP("Size"),
                                         QT_TR_NOOP("Scope"),   QT_TR_NOOP("Address")};
    return tr(titles[section]);
}

bool EventLogModel::exportCsv(const QString& file, QString* error) const {
    if (!trace_) {
        if (error) *error = tr("%1: no trace loaded").arg(file);
        return false;
    }
    QSaveFile out(file);
    if (!out.open(QIODevice::WriteOnly)) {
        if (error) *error = QStringLiteral("%1: %2").arg(file, out.errorString());
        return false;
    }
    QStringList header;
    for (int c = 0; c < ColumnCount; ++c)
        header << headerData(c, Qt::Horizontal).toString();
    out.write(csvLine(header).toUtf8());
    std::uint64_t row = 0;
    try {
        trace_->reader->for_each_event(
            [&](const Event& event) {
                if (!matches(event)) return true;
                QStringList fields = rowText(event);
                fields[Index] = QString::number(++row);
                out.write(csvLine(fields).toUtf8());
                return true;
            },
            session_);
    } catch (const std::exception& e) {
        if (error) *error = QString::fromUtf8(e.what());
        return false;
    }
    if (!out.commit()) {
        if (error) *error = QStringLiteral("%1: %2").arg(file, out.errorString());
        return false;
    }
    return true;
}

} // namespace memlife::ui
