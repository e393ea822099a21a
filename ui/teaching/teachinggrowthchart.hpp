// The teaching view's what-if: live bytes at each request end with AllocMem against
// request memory, for the same filter.
#pragma once

#include <QChartView>

#include <cstdint>
#include <vector>

QT_BEGIN_NAMESPACE
class QLineSeries;
class QValueAxis;
QT_END_NAMESPACE

namespace memlife::ui {

// The what-if: live bytes at each request end with AllocMem vs request memory.
class TeachingGrowthChart : public QChartView {
    Q_OBJECT
public:
    explicit TeachingGrowthChart(QWidget* parent = nullptr);
    void setLines(const std::vector<std::uint64_t>& sessionMemory,
                  const std::vector<std::uint64_t>& requestMemory);
    QLineSeries* sessionLine() const { return sessionLine_; }
    QLineSeries* requestLine() const { return requestLine_; }

protected:
    void changeEvent(QEvent* event) override;

private:
    void applyPalette();

    QLineSeries* sessionLine_ = nullptr;
    QLineSeries* requestLine_ = nullptr;
    QValueAxis* xAxis_ = nullptr;
    QValueAxis* yAxis_ = nullptr;
};

} // namespace memlife::ui
