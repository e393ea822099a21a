// Following a trace while a recorder thread writes it: the FollowController's polls bring
// every committed session and finding to the GUI thread within a second of the commit, the
// trace ends as "finished" (the pool lets go so the recorder folds its WAL back) or as
// "stopped unexpectedly", and Pause holds everything until Resume. The whole window follows
// too: every view's model gets every session and finding within a second of its commit,
// and the user's zoom, selection, sorting and filter survive 100 updates; a view of the
// whole range keeps showing the latest part.
#include <QSignalSpy>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QPushButton>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "charts/livebyteschart.hpp"
#include "compare/comparepanel.hpp"
#include "follow/followcontroller.hpp"
#include "follow/traceupdate.hpp"
#include "memlife/data/recorder.hpp"
#include "memlife/session.hpp"
#include "models/leaksuspectsmodel.hpp"
#include "models/sessionsmodel.hpp"
#include "models/sessionsproxy.hpp"
#include "pages/leakspage.hpp"
#include "pages/overviewpage.hpp"
#include "window/mainwindow.hpp"
#include "window/tracedocument.hpp"
#include "window/traceloader.hpp"

using namespace memlife;
using namespace memlife::ui;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// A recorder thread: connections of a few keep-alive requests each, committed in rounds;
// every 7th connection overruns a block (a corruption), every 5th leaks a noted block.
// Each round's commit is timed, so the test can measure commit -> GUI.
class RecordingThread {
public:
    struct Commit {
        Clock::time_point at;
        std::uint64_t lastSession = 0;
    };

    // keepAlive: one more connection (the first session) that stays open from the first round
    // to the last, a request per round, its live bytes growing.
    RecordingThread(const QString& path, int rounds, int sessionsPerRound,
                    std::chrono::milliseconds pause, bool keepAlive = false)
        : recorder_(std::make_unique<data::Recorder>(path.toStdString())), keepAlive_(keepAlive),
          thread_(
              [this, rounds, sessionsPerRound, pause] { run(rounds, sessionsPerRound, pause); }) {}
    ~RecordingThread() { join(); }

    void join() {
        if (thread_.joinable()) thread_.join();
    }
    std::vector<Commit> commits() const {
        const std::lock_guard lock(mutex_);
        return commits_;
    }
    std::uint64_t sessions() const { return sessions_; }
    std::uint64_t corruptions() const { return corruptions_; }
    std::uint64_t leaks() const { return leaks_; }

private:
    void run(int rounds, int perRound, std::chrono::milliseconds pause) {
        Runtime runtime(Config{}, recorder_.get());
        std::uint64_t id = 0;
        static char noted[128];
        Session* kept = nullptr;
        if (keepAlive_) {
            kept = runtime.open("10.1.1.1:443");
            ++id;
        }
        for (int round = 0; round < rounds; ++round) {
            if (kept) { // a keep-alive leak: one session block more per request
                kept->request_begin();
                kept->alloc_mem(256);
                kept->alloc_request(64);
                kept->request_end();
            }
            for (int i = 0; i < perRound; ++i) {
                Session* s = runtime.open("10.0.0." + std::to_string(++id % 250) + ":80");
                for (int r = 0; r < 3; ++r) {
                    s->request_begin();
                    s->set_notification(Notification::UrlMap);
                    s->alloc_mem(64 + static_cast<std::uint32_t>(id % 32) * 8);
                    if (id % 7 == 0 && r == 0) static_cast<char*>(s->alloc_mem(16))[16] = 'x';
                    if (id % 5 == 0 && r == 0) s->note_alloc(noted, sizeof noted, Scope::Request);
                    s->request_end();
                }
                corruptions_ += id % 7 == 0;
                leaks_ += id % 5 == 0;
                runtime.close(s);
            }
            recorder_->flush(); // committed when it returns
            {
                const std::lock_guard lock(mutex_);
                commits_.push_back({Clock::now(), id});
            }
            std::this_thread::sleep_for(pause);
        }
        if (kept) runtime.close(kept);
        sessions_ = id;
        recorder_->commit();
    }

    std::unique_ptr<data::Recorder> recorder_;
    bool keepAlive_ = false;
    mutable std::mutex mutex_;
    std::vector<Commit> commits_;
    std::atomic<std::uint64_t> sessions_{0}, corruptions_{0}, leaks_{0};
    std::thread thread_;
};

// What the window's loader reads, read here at once.
TracePtr loadNow(const QString& path) {
    std::atomic<bool> canceled{false};
    return TraceLoader::loadNow(
        path, [](int) {}, canceled);
}

// Everything the GUI thread received, applied as the window does.
struct Follower {
    TracePtr trace;
    std::vector<std::pair<Clock::time_point, std::uint64_t>> updates; // when, largest id
    int added = 0, changed = 0;

    void apply(const data::TraceChanges& changes) {
        TraceUpdate update;
        trace = applyChanges(*trace, changes, update);
        added += static_cast<int>(update.added.size());
        changed += static_cast<int>(update.changed.size());
        std::uint64_t largest = updates.empty() ? 0 : updates.back().second;
        for (const auto& s : trace->sessions)
            largest = std::max(largest, s.id);
        updates.emplace_back(Clock::now(), largest);
    }
};

} // namespace

class TestFollow : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void everyCommitReachesTheGuiWithinASecond();
    void pauseHoldsEverythingUntilResume();
    void aRecordingThatStopsUnexpectedlySaysSo();
    void theWindowFollowsKeepingZoomSelectionSortAndFilter();
    void aWholeRangeViewKeepsTheLatestPartInView();
    void compareModeFollowsTheTrace();
};

void TestFollow::everyCommitReachesTheGuiWithinASecond() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("live.trace"));
    RecordingThread recording(path, 40, 25, 50ms);
    QTRY_VERIFY_WITH_TIMEOUT(!recording.commits().empty(), 10000);
    Follower seen;
    seen.trace = loadNow(path);
    QVERIFY(seen.trace);
    QCOMPARE(seen.trace->info.recording, data::RecordingState::Live);

    FollowController controller;
    QSignalSpy ended(&controller, &FollowController::stateChanged);
    connect(
        &controller, &FollowController::changed, this,
        [&](const std::shared_ptr<const data::TraceChanges>& changes) { seen.apply(*changes); });
    controller.follow(path, seen.trace->cursor, seen.trace->info.recording);
    QVERIFY(controller.isFollowing());
    QTRY_COMPARE_WITH_TIMEOUT(ended.count(), 1, 30000);
    QCOMPARE(controller.state(), data::RecordingState::Finished);
    QVERIFY(!controller.isFollowing());
    recording.join();

    // Every committed session and finding arrived, each as its last row.
    QCOMPARE(seen.trace->sessions.size(), std::size_t(recording.sessions()));
    QCOMPARE(seen.trace->corruptions.size(), std::size_t(recording.corruptions()));
    QCOMPARE(seen.trace->leaks.size(), std::size_t(recording.leaks()));
    QCOMPARE(seen.trace->info.recording, data::RecordingState::Finished);
    for (const auto& s : seen.trace->sessions) {
        QVERIFY2(s.closed(), qPrintable(QStringLiteral("session %1 closed").arg(s.id)));
        QCOMPARE(s.requests, 3u);
    }
    QVERIFY(seen.added > 0);
    // Commit -> GUI thread: at most a second for every commit seen while following.
    const auto start = seen.updates.empty() ? Clock::now() : seen.updates.front().first;
    std::chrono::milliseconds worst{0};
    int measured = 0;
    for (const auto& commit : recording.commits()) {
        if (commit.at < start) continue; // before following began
        const auto arrived =
            std::find_if(seen.updates.begin(), seen.updates.end(),
                         [&](const auto& u) { return u.second >= commit.lastSession; });
        QVERIFY(arrived != seen.updates.end());
        worst = std::max(worst, std::chrono::duration_cast<std::chrono::milliseconds>(
                                    arrived->first - commit.at));
        ++measured;
    }
    QVERIFY(measured > 10);
    QVERIFY2(worst <= 1000ms, qPrintable(QStringLiteral("worst %1 ms").arg(worst.count())));
    qInfo("commit -> GUI thread: worst %lld ms over %d commits",
          static_cast<long long>(worst.count()), measured);
}

void TestFollow::pauseHoldsEverythingUntilResume() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("paused.trace"));
    RecordingThread recording(path, 30, 5, 30ms);
    QTRY_VERIFY_WITH_TIMEOUT(!recording.commits().empty(), 10000);
    Follower seen;
    seen.trace = loadNow(path);
    FollowController controller;
    connect(
        &controller, &FollowController::changed, this,
        [&](const std::shared_ptr<const data::TraceChanges>& changes) { seen.apply(*changes); });
    controller.follow(path, seen.trace->cursor, seen.trace->info.recording);
    controller.setPaused(true);
    QVERIFY(controller.isPaused());
    const std::size_t before = seen.trace->sessions.size();
    QTest::qWait(400);
    QCOMPARE(seen.trace->sessions.size(), before);
    QVERIFY(recording.commits().back().lastSession > before); // the recording went on
    controller.setPaused(false);
    QTRY_VERIFY_WITH_TIMEOUT(seen.trace->sessions.size() > before, 2000);
    QTRY_VERIFY_WITH_TIMEOUT(controller.state() == data::RecordingState::Finished, 20000);
    recording.join();
    QCOMPARE(seen.trace->sessions.size(), std::size_t(recording.sessions()));
}

void TestFollow::aRecordingThatStopsUnexpectedlySaysSo() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("stops.trace"));
    // A recorder in a child process, killed with SIGKILL while the GUI follows.
    int ready[2];
    QVERIFY(::pipe(ready) == 0);
    const pid_t child = ::fork();
    QVERIFY(child >= 0);
    if (child == 0) {
        data::Recorder recorder(path.toStdString());
        Runtime runtime(Config{}, &recorder);
        for (std::uint64_t round = 0;; ++round) {
            Session* s = runtime.open("10.9.9.9:" + std::to_string(round));
            s->request_begin();
            s->alloc_mem(100);
            s->request_end();
            runtime.close(s);
            recorder.flush();
            if (round == 0) (void)!::write(ready[1], "r", 1);
            ::usleep(20'000);
        }
    }
    ::close(ready[1]);
    char byte = 0;
    QCOMPARE(::read(ready[0], &byte, 1), ssize_t(1));
    ::close(ready[0]);
    Follower seen;
    seen.trace = loadNow(path);
    QCOMPARE(seen.trace->info.recording, data::RecordingState::Live);
    FollowController controller;
    connect(
        &controller, &FollowController::changed, this,
        [&](const std::shared_ptr<const data::TraceChanges>& changes) { seen.apply(*changes); });
    QSignalSpy ended(&controller, &FollowController::stateChanged);
    controller.follow(path, seen.trace->cursor, seen.trace->info.recording);
    const std::size_t before = seen.trace->sessions.size();
    QTRY_VERIFY_WITH_TIMEOUT(seen.trace->sessions.size() > before + 3, 5000);
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    QTRY_COMPARE_WITH_TIMEOUT(ended.count(), 1, 2000);
    QCOMPARE(controller.state(), data::RecordingState::Interrupted);
    QVERIFY(!controller.isFollowing());

    // Opened afresh, the killed recording is not live: it says it stopped unexpectedly.
    MainWindow window(false);
    window.openTrace(path);
    QTRY_VERIFY_WITH_TIMEOUT(window.document()->trace() != nullptr, 10000);
    QCOMPARE(window.document()->trace()->info.recording, data::RecordingState::Interrupted);
    QVERIFY(!window.follower()->isFollowing());
    auto* status = window.findChild<QLabel*>(QStringLiteral("statusText"));
    QVERIFY2(status->text().contains(QStringLiteral("stopped unexpectedly")),
             qPrintable(status->text()));
}

namespace {

// The largest session id the overview's model holds.
std::uint64_t largestShown(const SessionsModel& model) {
    std::uint64_t largest = 0;
    for (int row = 0; row < model.rowCount(); ++row)
        largest = std::max(largest, model.row(row)->id);
    return largest;
}

std::vector<std::uint64_t> selectedIds(QTableView* table) {
    std::vector<std::uint64_t> ids;
    for (const QModelIndex& index : table->selectionModel()->selectedRows())
        ids.push_back(index.data(SessionIdRole).toULongLong());
    std::sort(ids.begin(), ids.end());
    return ids;
}

} // namespace

void TestFollow::theWindowFollowsKeepingZoomSelectionSortAndFilter() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("window.trace"));
    // About 14 s of recording, a commit every ~80 ms: well over 100 updates.
    constexpr int kRounds = 175;
    RecordingThread recording(path, kRounds, 4, 80ms, /*keepAlive=*/true);
    QTRY_VERIFY_WITH_TIMEOUT(recording.commits().size() >= 3, 10000);

    MainWindow window(false);
    window.resize(1400, 900);
    window.show();
    window.setCurrentView(QStringLiteral("overview"));
    window.followTrace(path);
    QTRY_VERIFY_WITH_TIMEOUT(window.document()->trace() != nullptr, 10000);
    QVERIFY(window.follower()->isFollowing());
    QCOMPARE(window.followState(), QStringLiteral("following"));
    auto* label = window.findChild<QLabel*>(QStringLiteral("followState"));
    QVERIFY(label && label->isVisible() && label->text().contains(QStringLiteral("following")));
    auto* pause = window.findChild<QPushButton*>(QStringLiteral("followPauseButton"));
    QVERIFY(pause && pause->isVisible());

    auto* overview = static_cast<OverviewPage*>(window.page(QStringLiteral("overview")));
    auto* leaks = static_cast<LeaksPage*>(window.page(QStringLiteral("leaks")));
    QTableView* table = overview->table();
    LiveBytesChart* chart = overview->chart();
    QTRY_VERIFY_WITH_TIMEOUT(!chart->isPending(), 10000);

    // The user's choices: two sessions selected, sorted by peak (highest first), a filter
    // that every session matches, and a zoom into the first half of what was recorded.
    window.document()->setSelection({1, 2});
    table->sortByColumn(SessionsModel::PeakBytes, Qt::DescendingOrder);
    auto* filter = overview->findChild<QLineEdit*>(QStringLiteral("sessionFilter"));
    filter->setText(QStringLiteral("10."));
    const TracePtr first = window.document()->trace();
    const std::uint64_t zoomBegin = first->firstNs();
    const std::uint64_t zoomEnd = first->firstNs() + (first->lastNs() - first->firstNs()) / 2;
    chart->zoomToWindow(zoomBegin, zoomEnd);
    const data::TimeWindow zoomed = chart->visibleWindow();
    QCOMPARE(selectedIds(table), (std::vector<std::uint64_t>{1, 2}));

    // Each update: what the model shows and when; the user's choices as they were.
    std::vector<std::pair<Clock::time_point, std::uint64_t>> updates;
    int broken = 0;
    QString why;
    connect(&window, &MainWindow::traceUpdated, this, [&] {
        updates.emplace_back(Clock::now(), largestShown(*overview->model()));
        const data::TimeWindow now = chart->visibleWindow();
        const auto near = [](std::uint64_t a, std::uint64_t b) {
            return (a > b ? a - b : b - a) <= 1000; // ns: double rounding of the axis
        };
        QString wrong;
        if (window.document()->selection() != std::vector<std::uint64_t>{1, 2})
            wrong = QStringLiteral("the document's selection");
        else if (selectedIds(table) != std::vector<std::uint64_t>{1, 2})
            wrong = QStringLiteral("the table's selection");
        else if (!near(now.begin_ns, zoomed.begin_ns) || !near(now.end_ns, zoomed.end_ns))
            wrong = QStringLiteral("the zoom");
        else if (table->horizontalHeader()->sortIndicatorSection() != SessionsModel::PeakBytes ||
                 table->horizontalHeader()->sortIndicatorOrder() != Qt::DescendingOrder)
            wrong = QStringLiteral("the sort order");
        else if (filter->text() != QStringLiteral("10.") ||
                 overview->proxy()->rowCount() != overview->model()->rowCount())
            wrong = QStringLiteral("the filter");
        if (!wrong.isEmpty() && broken++ == 0)
            why = QStringLiteral("%1 changed at update %2").arg(wrong).arg(updates.size());
    });
    QTRY_VERIFY_WITH_TIMEOUT(window.followState() == QStringLiteral("recording finished"), 60000);
    recording.join();
    QVERIFY2(broken == 0, qPrintable(why));
    QVERIFY2(updates.size() >= 100, qPrintable(QStringLiteral("%1 updates").arg(updates.size())));
    QVERIFY(!pause->isVisible());
    QVERIFY(label->text().contains(QStringLiteral("recording finished")));

    // Every committed session and finding is in the views' models, as their last rows say.
    const TracePtr last = window.document()->trace();
    QCOMPARE(overview->model()->rowCount(), int(recording.sessions()));
    QCOMPARE(last->corruptions.size(), std::size_t(recording.corruptions()));
    QCOMPARE(last->leaks.size(), std::size_t(recording.leaks()));
    QCOMPARE(last->info.recording, data::RecordingState::Finished);
    std::size_t suspects = 0;
    for (const auto& s : last->sessions)
        suspects += s.growth_bytes_per_request >= LeakSuspectsModel::kMinGrowth || s.leaked_bytes;
    QCOMPARE(leaks->model()->rowCount(), int(suspects));
    QVERIFY(suspects >= recording.leaks());
    const data::SessionRow* kept = last->session(1);
    QVERIFY(kept && kept->closed() && kept->requests == std::uint32_t(kRounds));
    auto* status = window.findChild<QLabel*>(QStringLiteral("statusText"));
    QVERIFY2(status->text().contains(QStringLiteral("%1 sessions").arg(recording.sessions())),
             qPrintable(status->text()));

    // Commit -> every model updated: at most a second.
    std::chrono::milliseconds worst{0};
    int measured = 0;
    for (const auto& commit : recording.commits()) {
        if (commit.at < updates.front().first) continue; // before the window followed
        const auto shown = std::find_if(updates.begin(), updates.end(), [&](const auto& u) {
            return u.second >= commit.lastSession;
        });
        QVERIFY(shown != updates.end());
        worst = std::max(
            worst, std::chrono::duration_cast<std::chrono::milliseconds>(shown->first - commit.at));
        ++measured;
    }
    QVERIFY(measured >= 100);
    QVERIFY2(worst <= 1000ms, qPrintable(QStringLiteral("worst %1 ms").arg(worst.count())));
    qInfo("window: %zu updates; commit -> models: worst %lld ms over %d commits", updates.size(),
          static_cast<long long>(worst.count()), measured);
}

void TestFollow::aWholeRangeViewKeepsTheLatestPartInView() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("grows.trace"));
    RecordingThread recording(path, 40, 2, 50ms, /*keepAlive=*/true);
    QTRY_VERIFY_WITH_TIMEOUT(!recording.commits().empty(), 10000);
    MainWindow window(false);
    window.resize(1400, 900);
    window.show();
    window.setCurrentView(QStringLiteral("overview"));
    window.openTrace(path); // a live trace is followed without being asked
    QTRY_VERIFY_WITH_TIMEOUT(window.document()->trace() != nullptr, 10000);
    QVERIFY(window.follower()->isFollowing());
    LiveBytesChart* chart =
        static_cast<OverviewPage*>(window.page(QStringLiteral("overview")))->chart();
    window.document()->setSelection({1}); // the keep-alive session: open to the end
    const std::uint64_t endBefore = chart->visibleWindow().end_ns;
    QTRY_VERIFY_WITH_TIMEOUT(window.followState() == QStringLiteral("recording finished"), 30000);
    recording.join();
    QTRY_VERIFY_WITH_TIMEOUT(!chart->isPending(), 10000);
    // The view grew with the trace and shows its end.
    const TracePtr trace = window.document()->trace();
    QVERIFY(chart->visibleWindow().end_ns > endBefore);
    QVERIFY(chart->visibleWindow().end_ns >= trace->session(1)->close_ns);
    QVERIFY(chart->seriesFor(1) && chart->seriesFor(1)->count() > 0);
}

// Compare mode while following: the comparison is made again as the trace grows (once the
// running one is done), and the last one compares the finished trace with the base.
void TestFollow::compareModeFollowsTheTrace() {
    QTemporaryDir dir;
    const QString basePath = dir.filePath(QStringLiteral("base.trace"));
    RecordingThread(basePath, 2, 3, 0ms).join();
    const QString path = dir.filePath(QStringLiteral("compared.trace"));
    RecordingThread recording(path, 40, 5, 50ms);
    QTRY_VERIFY_WITH_TIMEOUT(!recording.commits().empty(), 10000);

    MainWindow window(false);
    window.resize(1400, 900);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.setCurrentView(QStringLiteral("overview"));
    window.openTrace(path);
    QTRY_VERIFY_WITH_TIMEOUT(window.follower()->isFollowing(), 10000);
    QSignalSpy baseLoaded(&window, &MainWindow::baseLoaded);
    window.compareWith(basePath);
    QVERIFY(baseLoaded.wait(10000));
    ComparePanel* panel =
        qobject_cast<OverviewPage*>(window.page(QStringLiteral("overview")))->comparePanel();
    QVERIFY(panel->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(window.followState() == QStringLiteral("recording finished"), 30000);
    recording.join();
    const auto comparedAll = [&] {
        const auto& c = panel->comparison();
        return c && !panel->isPending() && c->next.all.sessions == recording.sessions();
    };
    const auto what = [&] {
        const auto& c = panel->comparison();
        return QStringLiteral("compared %1 of %2 sessions%3")
                   .arg(c ? c->next.all.sessions : 0)
                   .arg(recording.sessions())
                   .arg(panel->isPending() ? QStringLiteral(", comparing") : QString()) +
               QStringLiteral(": ") +
               panel->findChild<QLabel*>(QStringLiteral("compareHeader"))->text();
    };
    QTRY_VERIFY2_WITH_TIMEOUT(comparedAll(), qPrintable(what()), 10000);
    QCOMPARE(panel->comparison()->base.all.sessions, std::uint64_t(6));
}

QTEST_MAIN(TestFollow)
#include "tst_follow.moc"
