#include "window/viewregistry.hpp"

#include "pages/builtinviews.hpp"

namespace memlife::ui {

namespace {
std::vector<ViewInfo>& registry() {
    static std::vector<ViewInfo> list = builtinViews();
    return list;
}
} // namespace

const std::vector<ViewInfo>& views() {
    return registry();
}

void registerView(ViewInfo view) {
    for (ViewInfo& existing : registry())
        if (existing.name == view.name) {
            existing = std::move(view);
            return;
        }
    registry().push_back(std::move(view));
}

QStringList viewNames() {
    QStringList names;
    for (const ViewInfo& v : views())
        names << v.name;
    return names;
}

} // namespace memlife::ui
