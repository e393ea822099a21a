// What the trace charts share: a QChartView that says in a sentence why there is nothing to
// draw (no trace, no session, a flat trace) instead of drawing an empty axis, styled from
// the widget's palette.
#pragma once

#include <QChartView>

namespace memlife::ui {

// How many ticks a value axis of this many pixels holds (one per ~45 px, 3 to 10).
int yTickCount(double pixels);

class ChartView : public QChartView {
    Q_OBJECT
public:
    explicit ChartView(QWidget* parent = nullptr);

    // A sentence in place of the chart (its axes, series and legend hidden); empty: the
    // chart again.
    void setMessage(const QString& text);
    const QString& message() const { return message_; }

protected:
    void drawForeground(QPainter* painter, const QRectF& rect) override;
    void changeEvent(QEvent* event) override;
    // Called when the palette changes (and once by the subclass): restyle.
    virtual void applyPalette() = 0;

    QChart* chart_ = nullptr;

private:
    QString message_;
};

} // namespace memlife::ui
