#include "teaching/teachingmodel.hpp"

#include <QTimer>

#include <algorithm>

namespace memlife::ui {

TeachingModel::TeachingModel(QObject* parent) : QObject(parent), timer_(new QTimer(this)) {
    timer_->setInterval(kDefaultIntervalMs);
    connect(timer_, &QTimer::timeout, this, [this] {
        if (!stepForward()) pause();
    });
    script_ = exampleScript(ExampleMemory::Session);
}

void TeachingModel::setScript(TeachingScript script) {
    pause();
    script_ = std::move(script);
    step_ = 0;
    Q_EMIT scriptChanged();
    Q_EMIT stepChanged(step_);
}

const TeachingStep* TeachingModel::current() const {
    if (step_ < 0 || step_ >= stepCount()) return nullptr;
    return &script_.steps[std::size_t(step_)];
}

void TeachingModel::setStep(int step) {
    step = std::clamp(step, 0, std::max(0, stepCount() - 1));
    if (step == step_) return;
    step_ = step;
    Q_EMIT stepChanged(step_);
}

bool TeachingModel::stepForward() {
    if (step_ + 1 >= stepCount()) return false;
    setStep(step_ + 1);
    return true;
}

bool TeachingModel::stepBack() {
    if (step_ <= 0) return false;
    setStep(step_ - 1);
    return true;
}

void TeachingModel::reset() {
    pause();
    setStep(0);
}

void TeachingModel::play() {
    if (isPlaying()) return;
    if (step_ + 1 >= stepCount()) setStep(0); // play from the end starts over
    timer_->start();
    Q_EMIT playingChanged(true);
}

void TeachingModel::pause() {
    if (!isPlaying()) return;
    timer_->stop();
    Q_EMIT playingChanged(false);
}

void TeachingModel::togglePlay() {
    if (isPlaying())
        pause();
    else
        play();
}

bool TeachingModel::isPlaying() const {
    return timer_->isActive();
}

void TeachingModel::setInterval(int ms) {
    timer_->setInterval(std::max(10, ms));
}

int TeachingModel::interval() const {
    return timer_->interval();
}

void TeachingModel::showExample() {
    setScript(exampleScript(whatIf_ ? ExampleMemory::Request : ExampleMemory::Session));
}

void TeachingModel::setWhatIf(bool on) {
    const bool changed = on != whatIf_;
    whatIf_ = on;
    showExample();
    if (changed) Q_EMIT whatIfChanged(on);
}

const std::vector<std::uint64_t>& TeachingModel::sessionMemoryGrowth() const {
    if (sessionGrowth_.empty())
        sessionGrowth_ =
            liveBytesAtRequestEnds(exampleEvents(ExampleMemory::Session, Example::kWhatIfRequests));
    return sessionGrowth_;
}

const std::vector<std::uint64_t>& TeachingModel::requestMemoryGrowth() const {
    if (requestGrowth_.empty())
        requestGrowth_ =
            liveBytesAtRequestEnds(exampleEvents(ExampleMemory::Request, Example::kWhatIfRequests));
    return requestGrowth_;
}

} // namespace memlife::ui
