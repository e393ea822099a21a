// The allocating call stack of one block (the blocks view, the tail inspector): innermost
// frame first, each with its function, file:line and module. The frames are read in a job;
// a block without a stack says why (the trace has none, or this block has none).
#pragma once

#include <QTextBrowser>

#include <vector>

#include "jobs/jobtracker.hpp"
#include "window/loadedtrace.hpp"

namespace memlife::ui {

class StackPanel : public QTextBrowser {
    Q_OBJECT
public:
    explicit StackPanel(QWidget* parent = nullptr);

    // Shows stack `stack` of the trace (0: none recorded for the block); loaded() follows.
    void showStack(const TracePtr& trace, std::uint64_t stack);
    std::uint64_t stack() const { return stack_; }
    bool isLoading() const { return job_.isRunning(); }
    const std::vector<data::StackFrame>& frames() const { return frames_; }
    // The frames as HTML rows, as shown (also the tail inspector's and the tool tips').
    static QString framesHtml(const std::vector<data::StackFrame>& frames);

Q_SIGNALS:
    void loaded();

private:
    void showText(const QString& text);

    std::uint64_t stack_ = 0;
    std::vector<data::StackFrame> frames_;
    JobTracker job_;
};

} // namespace memlife::ui
