#include "models/eventlogmodel.hpp"

#include <QElapsedTimer>
#include <QMetaObject>
#include <QSaveFile>

#include <climits>
#include <stdexcept>

#include "export/csv.hpp"
#include "models/itemroles.hpp"
#include "style/format.hpp"
#include "style/style.hpp"

namespace memlife::ui {

namespace {
constexpr qint64 kProgressIntervalMs = 100;
constexpr std::uint64_t kMaxRows = INT_MAX; // QAbstractItemModel rows are ints
} // namespace

EventLogModel::EventLogModel(QObject* parent)
    : QAbstractTableModel(parent), counting_(this), fetching_(this), exporting_(this) {}

void EventLogModel::setSource(TracePtr trace, std::optional<std::uint64_t> session,
                              std::optional<EventKind> kind, const QString& search) {
    counting_.discard();
    fetching_.discard();
    beginResetModel();
    trace_ = std::move(trace);
    session_ = session;
    filter_ = std::make_shared<const EventFilter>(trace_, kind, search);
    checkpoints_.clear();
    rows_ = 0;
    window_.clear();
    window_.shrink_to_fit();
    windowStart_ = 0;
    wantedRow_ = -1;
    endResetModel();
    if (!trace_) {
        Q_EMIT countingFinished();
        return;
    }

    struct Counted {
        std::uint64_t count = 0;
        std::vector<Event> head; // the first window, collected during the count
        std::vector<std::uint64_t> checkpoints;
    };
    counting_.start<Counted>({
        .work =
            [this, readers = trace_->readers, session, filter = filter_](const JobControl& job) {
                Counted counted;
                counted.head.reserve(kWindow);
                std::size_t posted = 0;
                // Rows appear while a long count runs (the owner's callback, if current).
                auto post = [&] {
                    std::shared_ptr<std::vector<Event>> head;
                    if (counted.head.size() != posted)
                        head = std::make_shared<std::vector<Event>>(counted.head);
                    posted = counted.head.size();
                    job.post(
                        [this, count = counted.count, head, checkpoints = counted.checkpoints] {
                            checkpoints_ = checkpoints;
                            appendCounted(count);
                            if (head) showHead(*head);
                        });
                };
                QElapsedTimer sincePost;
                sincePost.start();
                auto more = [&job] { return !job.canceled(); };
                try {
                    readers->use([&](const data::TraceReader& reader) {
                        if (filter->isEmpty()) { // the batch rows count, only the top decodes
                            counted.count = std::min(reader.event_count(session), kMaxRows);
                            reader.for_each_event(
                                [&](const Event& event) {
                                    counted.head.push_back(event);
                                    return more() && counted.head.size() < std::size_t(kWindow);
                                },
                                session);
                            return;
                        }
                        std::uint64_t position = 0;
                        reader.for_each_event(
                            [&](const Event& event) {
                                const std::uint64_t at = position++;
                                if (!filter->matches(event)) return more();
                                if (counted.count % kCheckpoint == 0)
                                    counted.checkpoints.push_back(at);
                                if (counted.head.size() < std::size_t(kWindow))
                                    counted.head.push_back(event);
                                ++counted.count;
                                if ((position & 4095) == 0 &&
                                    sincePost.elapsed() >= kProgressIntervalMs) {
                                    post();
                                    sincePost.restart();
                                }
                                return more() && counted.count < kMaxRows;
                            },
                            session);
                    });
                } catch (...) {
                    post(); // what was counted before the damage stays shown
                    throw;
                }
                return counted;
            },
        .done =
            [this](Counted counted) {
                checkpoints_ = std::move(counted.checkpoints);
                appendCounted(counted.count);
                showHead(counted.head);
                Q_EMIT countingFinished();
            },
        .failed =
            [this](const QString& message) {
                Q_EMIT failed(message);
                Q_EMIT countingFinished();
            },
    });
}

void EventLogModel::grow(TracePtr trace) {
    if (isFiltered() || !trace_) return setSource(std::move(trace), session_, kind(), search());
    trace_ = std::move(trace);
    if (counting_.isRunning()) return; // the next update counts what it missed
    counting_.start<std::uint64_t>({
        .work =
            [readers = trace_->readers, session = session_](const JobControl&) {
                std::uint64_t count = 0;
                readers->use([&](const data::TraceReader& reader) {
                    count = std::min(reader.event_count(session), kMaxRows);
                });
                return count;
            },
        .done =
            [this](std::uint64_t count) {
                appendCounted(count);
                Q_EMIT countingFinished();
            },
        .failed = [this](const QString& message) { Q_EMIT failed(message); },
    });
}

void EventLogModel::showHead(const std::vector<Event>& head) {
    if (windowStart_ != 0 || head.size() <= window_.size()) return;
    window_ = head;
    Q_EMIT dataChanged(index(0, 0), index(static_cast<int>(window_.size()) - 1, ColumnCount - 1));
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
            if (self->wantedRow_ >= 0 && !self->fetching_.isRunning())
                self->startFetch(self->wantedRow_);
        },
        Qt::QueuedConnection);
}

void EventLogModel::startFetch(int row) {
    if (eventAt(row) || row >= rows_ || !trace_) {
        wantedRow_ = -1;
        return;
    }
    const int start = std::max(0, row - kWindow / 4);
    // Where to start reading: row `start` itself without a filter (the reader seeks there);
    // with one, the last checkpoint at or before it (match `from`, stream position `skip`).
    std::uint64_t skip = static_cast<std::uint64_t>(start);
    int from = start;
    if (isFiltered()) {
        skip = 0;
        from = 0;
        if (!checkpoints_.empty()) {
            const std::size_t k =
                std::min(static_cast<std::size_t>(start / kCheckpoint), checkpoints_.size() - 1);
            skip = checkpoints_[k];
            from = int(k) * kCheckpoint;
        }
    }
    struct Window {
        std::vector<Event> events;
        int start = 0;
    };
    fetching_.start<Window>({
        .work =
            [readers = trace_->readers, session = session_, filter = filter_, start, skip,
             from](const JobControl& job) {
                Window window{{}, start};
                window.events.reserve(kWindow);
                readers->use([&](const data::TraceReader& reader) {
                    int match = from;
                    reader.for_each_event(
                        [&](const Event& event) {
                            if (!filter->matches(event)) return !job.canceled();
                            if (match++ >= start) window.events.push_back(event);
                            return !job.canceled() &&
                                   window.events.size() < static_cast<std::size_t>(kWindow);
                        },
                        session, skip);
                });
                return window;
            },
        .done =
            [this](Window window) {
                window_ = std::move(window.events);
                windowStart_ = window.start;
                const int last =
                    std::min(rows_, window.start + static_cast<int>(window_.size())) - 1;
                if (last >= window.start)
                    Q_EMIT dataChanged(index(window.start, 0), index(last, ColumnCount - 1));
                Q_EMIT windowLoaded();
                if (wantedRow_ >= 0 && !eventAt(wantedRow_) && wantedRow_ < rows_)
                    startFetch(wantedRow_);
                else
                    wantedRow_ = -1;
            },
        .failed =
            [this](const QString& message) {
                wantedRow_ = -1;
                Q_EMIT failed(message);
            },
    });
}

int EventLogModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : rows_;
}

int EventLogModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QStringList EventLogModel::rowText(const Event& e, std::uint64_t first, std::uint64_t resolution) {
    const bool hasBlock = e.kind == EventKind::Alloc || e.kind == EventKind::Release ||
                          e.kind == EventKind::Corruption || e.kind == EventKind::Leak;
    // A scope's release: the bytes, and how many blocks they were (not a block id).
    const bool scopeRelease = e.kind == EventKind::RequestEnd || e.kind == EventKind::SessionClose;
    QString size;
    if (hasBlock)
        size = formatBytes(double(e.size));
    else if (scopeRelease && (e.size != 0 || e.block != 0))
        size = e.block == 1
                   ? tr("%1 in 1 block").arg(formatBytes(double(e.size)))
                   : tr("%1 in %2 blocks").arg(formatBytes(double(e.size)), formatCount(e.block));
    else if (e.kind == EventKind::Drop)
        size = tr("%1 events").arg(formatCount(e.size));
    return {QString(),
            formatTime(e.time_ns, first, resolution),
            QString::number(e.session),
            e.request ? QString::number(e.request) : QStringLiteral("-"),
            eventKindLabel(e.kind),
            notificationName(e.notification),
            hasBlock ? QString::number(e.block) : QString(),
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
        return rowText(*event, trace_ ? trace_->firstNs() : 0,
                       trace_ ? trace_->info.time_resolution_ns : 1)
            .at(index.column());
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

void EventLogModel::exportCsv(const QString& file) {
    if (!trace_) {
        Q_EMIT exported(file, tr("%1: no trace loaded").arg(file));
        return;
    }
    QStringList header;
    for (int c = 0; c < ColumnCount; ++c)
        header << headerData(c, Qt::Horizontal).toString();
    exporting_.start<bool>({
        .work =
            [readers = trace_->readers, first = trace_->firstNs(),
             resolution = trace_->info.time_resolution_ns, session = session_, filter = filter_,
             file, header](const JobControl& job) {
                QSaveFile out(file);
                if (!out.open(QIODevice::WriteOnly))
                    throw std::runtime_error(
                        QStringLiteral("%1: %2").arg(file, out.errorString()).toStdString());
                out.write(csvLine(header).toUtf8());
                std::uint64_t row = 0;
                readers->use([&](const data::TraceReader& reader) {
                    reader.for_each_event(
                        [&](const Event& event) {
                            if (!filter->matches(event)) return !job.canceled();
                            QStringList fields = rowText(event, first, resolution);
                            fields[Index] = QString::number(++row);
                            out.write(csvLine(fields).toUtf8());
                            return !job.canceled();
                        },
                        session);
                });
                if (job.canceled()) return false; // QSaveFile discards what it wrote
                if (!out.commit())
                    throw std::runtime_error(
                        QStringLiteral("%1: %2").arg(file, out.errorString()).toStdString());
                return true;
            },
        .done = [this, file](bool) { Q_EMIT exported(file, QString()); },
        .failed = [this, file](const QString& message) { Q_EMIT exported(file, message); },
    });
}

} // namespace memlife::ui
