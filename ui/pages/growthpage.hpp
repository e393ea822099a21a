// The growth view: live bytes at each request end per connection, with the fitted slope; in
// compare mode with the base trace's steepest connections overlaid, dashed.
#pragma once

#include "pages/viewpage.hpp"

class QLabel;

namespace memlife::ui {

class GrowthChart;

class GrowthPage : public ViewPage {
    Q_OBJECT
public:
    GrowthPage(TraceDocument* document, QWidget* parent);
    QChartView* chartView() override;
    bool isBusy() const override;
    GrowthChart* chart() const { return chart_; }

protected:
    void traceChanged() override;
    void traceUpdated(const TraceUpdate& update) override;
    void baseChanged() override;
    void refresh() override;

private:
    QLabel* hint_;
    GrowthChart* chart_;
};

} // namespace memlife::ui
