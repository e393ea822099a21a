// The built-in views, in tab order: one entry per page class. A new built-in view is a page
// in pages/ and one entry in builtinViews() (builtinviews.cpp); views from elsewhere use
// registerView() (window/viewregistry.hpp).
#pragma once

#include <vector>

#include "window/viewregistry.hpp"

namespace memlife::ui {

std::vector<ViewInfo> builtinViews();

} // namespace memlife::ui
