// The teaching view's model: the player that walks through a script step by step (the
// script itself is teachingscript.hpp, the built-in example teachingexample.hpp). Nothing
// here paints, so the tests drive it directly.
#pragma once

#include <QObject>

#include <cstdint>
#include <vector>

#include "teaching/teachingexample.hpp"
#include "teaching/teachingscript.hpp"

class QTimer;

namespace memlife::ui {

class TeachingModel : public QObject {
    Q_OBJECT
public:
    static constexpr int kDefaultIntervalMs = 800;

    explicit TeachingModel(QObject* parent = nullptr);

    void setScript(TeachingScript script); // back to step 0, paused
    const TeachingScript& script() const { return script_; }
    int stepCount() const { return int(script_.steps.size()); }
    int step() const { return step_; }
    const TeachingStep* current() const;

    void setStep(int step); // clamped
    bool stepForward();     // false at the end
    bool stepBack();        // false at the start
    void reset();

    // Play advances one step per interval and pauses at the end.
    void play();
    void pause();
    void togglePlay();
    bool isPlaying() const;
    void setInterval(int ms);
    int interval() const;

    // What if the demo filter used request memory for its per-request copies? On: the
    // example runs with request memory; off: with AllocMem. Either way the growth lines of
    // both variants are available.
    void showExample();
    bool isExample() const { return !script_.fromTrace; }
    void setWhatIf(bool on);
    bool whatIf() const { return whatIf_; }
    // Live bytes at each request end of the example over kWhatIfRequests requests.
    const std::vector<std::uint64_t>& sessionMemoryGrowth() const;
    const std::vector<std::uint64_t>& requestMemoryGrowth() const;

Q_SIGNALS:
    void scriptChanged();
    void stepChanged(int step);
    void playingChanged(bool playing);
    void whatIfChanged(bool on);

private:
    TeachingScript script_;
    int step_ = 0;
    bool whatIf_ = false;
    QTimer* timer_;
    mutable std::vector<std::uint64_t> sessionGrowth_, requestGrowth_;
};

} // namespace memlife::ui
