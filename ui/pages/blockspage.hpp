// The blocks of one session (the focus session), filtered by tail, leak or liveness, with
// the tail inspector for a corrupted block.
#pragma once

#include <optional>

#include <QPointer>

#include "pages/tailinspector.hpp"
#include "pages/viewpage.hpp"

class QComboBox;
class QLabel;
class QPushButton;
class QTableView;

namespace memlife::ui {

class BlocksModel;
class BlocksProxy;

class BlocksPage : public ViewPage {
    Q_OBJECT
public:
    BlocksPage(TraceDocument* document, QWidget* parent);
    QAbstractItemModel* tableModel() override;
    bool isBusy() const override;
    BlocksModel* model() const { return model_; }
    QTableView* table() const { return table_; }
    // Opens the inspector for the block at a proxy row if its tail is corrupted.
    TailInspector* inspect(int row);
    TailInspector* inspector() const { return inspector_; }

protected:
    void traceChanged() override;
    void traceUpdated(const TraceUpdate& update) override;
    void refresh() override;

    // Why the page shows this session (selected, else the first corrupted, else the highest
    // peak): the header's second line.
    QString whyShown(const data::SessionRow& session) const;

private:
    void onLoaded();
    void updateButtons();

    BlocksModel* model_;
    BlocksProxy* proxy_;
    QComboBox* filter_;
    QLabel* header_;
    QPushButton* inspectButton_;
    QTableView* table_;
    QPointer<TailInspector> inspector_;
    // The block that was current when a followed trace's update re-read the blocks.
    std::optional<std::uint64_t> keptBlock_;
};

} // namespace memlife::ui
