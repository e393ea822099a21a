// Starting memlife-gui from the command line: `serve --gui` (and `record --gui`) open the
// GUI following the trace they record.
#pragma once

#include <string>

namespace memlife::cli {

// The memlife-gui to start: $MEMLIFE_GUI when set, else the one next to this executable
// (the build tree's app/ and an installation's bin/ both hold the two).
std::string gui_program();

// Starts `memlife-gui --follow TRACE`, detached: in a session of its own (a Ctrl-C meant
// for memlife does not close it, and it stays open after memlife ends), with no signal
// blocked or ignored, and without waiting for it. Returns "" once it runs, else why not
// ("cannot run /path/memlife-gui (No such file or directory)").
std::string start_following_gui(const std::string& trace);

} // namespace memlife::cli
