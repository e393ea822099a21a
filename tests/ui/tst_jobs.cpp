// The background-query pattern every view uses (jobs/): a job's result reaches its owner
// only while it is the current generation, a failure arrives as one line, cancel() ends with
// canceled, discard() with nothing, progress reports changes, the destructor waits for the
// workers; the ReaderPool never gives one reader to two threads at once.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "jobs/jobtracker.hpp"
#include "jobs/readerpool.hpp"
#include "trace_fixture.hpp"

using namespace memlife;
using namespace memlife::ui;
using namespace std::chrono_literals;

namespace {

// Blocks a job until the test opens it.
struct Gate {
    std::atomic<bool> open{false};
    void wait(const JobControl& job) const {
        while (!open && !job.canceled())
            std::this_thread::sleep_for(1ms);
    }
};

// What a job's callbacks saw, on the owner's thread.
struct Outcome {
    QStringList done;
    QStringList failed;
    int canceled = 0;
    QList<int> progress;
};

JobTracker::Job<QString> job(Outcome& outcome, std::function<QString(const JobControl&)> work) {
    return {
        .work = std::move(work),
        .done = [&outcome](QString result) { outcome.done << result; },
        .failed = [&outcome](const QString& message) { outcome.failed << message; },
        .canceled = [&outcome] { ++outcome.canceled; },
        .progress = [&outcome](int value) { outcome.progress << value; },
    };
}

} // namespace

class TestJobs : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void resultReachesTheOwnersThread();
    void staleResultIsDropped();
    void failureIsOneLine();
    void cancelEndsWithCanceled();
    void discardDropsEverything();
    void jobStoppedBeforeItRanDoesNothing();
    void progressAndPartialResults();
    void destructorWaitsForTheWorkers();
    void readerPoolLendsOneReaderPerThread();
};

void TestJobs::resultReachesTheOwnersThread() {
    QObject owner;
    JobTracker tracker(&owner);
    Outcome outcome;
    QThread* ownerThread = QThread::currentThread();
    std::atomic<QThread*> workerThread{nullptr};
    tracker.start(job(outcome, [&](const JobControl&) {
        workerThread = QThread::currentThread();
        return QStringLiteral("result");
    }));
    QVERIFY(tracker.isRunning());
    QTRY_COMPARE(outcome.done, QStringList{QStringLiteral("result")});
    QVERIFY(!tracker.isRunning());
    QVERIFY(workerThread.load() && workerThread.load() != ownerThread);
}

void TestJobs::staleResultIsDropped() {
    QObject owner;
    JobTracker tracker(&owner);
    Outcome outcome;
    Gate first, second;
    std::atomic<bool> firstStarted{false}, firstSawCancel{false};
    tracker.start(job(outcome, [&](const JobControl& control) {
        firstStarted = true;
        first.wait(control);
        firstSawCancel = control.canceled();
        return QStringLiteral("old");
    }));
    QTRY_VERIFY(firstStarted);
    tracker.start(job(outcome, [&](const JobControl& control) {
        second.wait(control);
        return QStringLiteral("new");
    }));
    QTRY_VERIFY(firstSawCancel); // the superseded job is asked to stop
    second.open = true;
    QTRY_COMPARE(outcome.done, QStringList{QStringLiteral("new")});
    QTest::qWait(50); // anything the old job posted has been delivered by now
    QCOMPARE(outcome.done, QStringList{QStringLiteral("new")});
    QVERIFY(outcome.failed.isEmpty() && outcome.canceled == 0);
}

void TestJobs::failureIsOneLine() {
    QObject owner;
    JobTracker tracker(&owner);
    Outcome outcome;
    tracker.start(job(outcome, [](const JobControl&) -> QString {
        throw std::runtime_error("/tmp/x.memlife: not a trace\n  (second line)");
    }));
    QTRY_COMPARE(outcome.failed.size(), 1);
    QCOMPARE(outcome.failed.front(), QStringLiteral("/tmp/x.memlife: not a trace (second line)"));
    QVERIFY(outcome.done.isEmpty());
    QVERIFY(!tracker.isRunning());
}

void TestJobs::cancelEndsWithCanceled() {
    QObject owner;
    JobTracker tracker(&owner);
    Outcome outcome;
    Gate never;
    tracker.start(job(outcome, [&](const JobControl& control) {
        never.wait(control); // until canceled
        return QStringLiteral("late");
    }));
    tracker.cancel();
    QVERIFY(tracker.isRunning()); // until the worker has stopped
    QTRY_COMPARE(outcome.canceled, 1);
    QVERIFY(!tracker.isRunning());
    QVERIFY(outcome.done.isEmpty());
}

void TestJobs::discardDropsEverything() {
    QObject owner;
    JobTracker tracker(&owner);
    Outcome outcome;
    std::atomic<bool> started{false}, finished{false};
    Gate never;
    QStringList partial;
    tracker.start(job(outcome, [&](const JobControl& control) {
        started = true;
        never.wait(control); // until discarded
        control.progress(50);
        control.post([&partial] { partial << QStringLiteral("late"); });
        finished = true;
        return QStringLiteral("dropped");
    }));
    QTRY_VERIFY(started);
    tracker.discard();
    QVERIFY(!tracker.isRunning());
    QTRY_VERIFY(finished);
    QTest::qWait(50);
    QVERIFY(outcome.done.isEmpty() && outcome.failed.isEmpty() && outcome.canceled == 0);
    QVERIFY(outcome.progress.isEmpty() && partial.isEmpty());
}

void TestJobs::jobStoppedBeforeItRanDoesNothing() {
    // Every worker of the pool busy (more blockers than it has threads), so the jobs below
    // queue; each start() supersedes the previous one before a worker can take it.
    Gate blockersGate;
    std::vector<std::unique_ptr<QObject>> owners;
    std::vector<std::unique_ptr<JobTracker>> blockers;
    Outcome blocked;
    for (int i = 0; i < std::max(4, QThread::idealThreadCount()) + 4; ++i) {
        owners.push_back(std::make_unique<QObject>());
        blockers.push_back(std::make_unique<JobTracker>(owners.back().get()));
        blockers.back()->start(job(blocked, [&](const JobControl& control) {
            blockersGate.wait(control);
            return QString();
        }));
    }
    QObject owner;
    JobTracker tracker(&owner);
    Outcome outcome;
    std::atomic<int> ran{0};
    for (int i = 0; i < 50; ++i)
        tracker.start(job(outcome, [&, i](const JobControl&) {
            ++ran;
            return QString::number(i);
        }));
    blockersGate.open = true;
    QTRY_COMPARE(outcome.done, QStringList{QStringLiteral("49")});
    QCOMPARE(ran.load(), 1); // the 49 superseded jobs never ran their work
    QTRY_COMPARE(blocked.done.size(), int(blockers.size()));
}

void TestJobs::progressAndPartialResults() {
    QObject owner;
    JobTracker tracker(&owner);
    Outcome outcome;
    QStringList partial;
    tracker.start(job(outcome, [&](const JobControl& control) {
        for (int percent : {10, 10, 10, 60, 100})
            control.progress(percent);
        control.post([&partial] { partial << QStringLiteral("half"); });
        return QStringLiteral("whole");
    }));
    QTRY_COMPARE(outcome.done.size(), 1);
    // Only changes are queued (10, 60, 100: at most three calls), and each call shows the
    // latest value, so the last one seen is the last one reported.
    QVERIFY(!outcome.progress.isEmpty() && outcome.progress.size() <= 3);
    QCOMPARE(outcome.progress.last(), 100);
    QCOMPARE(partial, QStringList{QStringLiteral("half")});
}

void TestJobs::destructorWaitsForTheWorkers() {
    std::atomic<bool> started{false}, finished{false};
    Outcome outcome;
    {
        QObject owner;
        JobTracker tracker(&owner);
        tracker.start(job(outcome, [&](const JobControl&) {
            started = true;
            std::this_thread::sleep_for(100ms); // does not look at its cancel flag
            finished = true;
            return QString();
        }));
        QTRY_VERIFY(started); // a worker has taken it
    }
    QVERIFY(finished); // the tracker waited
    QVERIFY(outcome.done.isEmpty());
}

void TestJobs::readerPoolLendsOneReaderPerThread() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("keepalive.memlife"));
    test::writeKeepAliveTrace(path.toStdString());
    ReaderPool pool(path);

    // Two workers inside use() at the same time get two readers; afterwards both are kept.
    std::atomic<int> inside{0};
    std::atomic<const data::TraceReader*> readers[2] = {nullptr, nullptr};
    auto borrow = [&](int i) {
        pool.use([&](const data::TraceReader& reader) {
            readers[i] = &reader;
            ++inside;
            while (inside < 2)
                std::this_thread::sleep_for(1ms);
            return reader.info().sessions;
        });
    };
    std::thread a(borrow, 0), b(borrow, 1);
    a.join();
    b.join();
    QVERIFY(readers[0].load() && readers[1].load());
    QVERIFY(readers[0].load() != readers[1].load());
    bool reused = false;
    std::thread c([&] {
        pool.use([&](const data::TraceReader& reader) {
            reused = &reader == readers[0].load() || &reader == readers[1].load();
        });
    });
    c.join();
    QVERIFY(reused);

    // A reader taken on the GUI thread is counted (the window's tests expect none).
    const std::uint64_t before = ReaderPool::guiThreadUses();
    QCOMPARE(pool.use([](const data::TraceReader& reader) { return reader.info().sessions; }),
             std::uint64_t(4));
    QCOMPARE(ReaderPool::guiThreadUses(), before + 1);

    ReaderPool missing(dir.filePath(QStringLiteral("missing.memlife")));
    bool threw = false;
    std::thread d([&] {
        try {
            missing.use([](const data::TraceReader&) { return 0; });
        } catch (const data::TraceError&) {
            threw = true;
        }
    });
    d.join();
    QVERIFY(threw);
}

QTEST_GUILESS_MAIN(TestJobs)
#include "tst_jobs.moc"
