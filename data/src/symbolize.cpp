// Symbolization with elfutils' libdwfl (heaptrack's choice): one Dwfl per module, reported
// at the address it was loaded at in the recording process, so that a stack address is
// looked up as it was. Separate debug files are found by build id or .gnu_debuglink
// (dwfl_standard_find_debuginfo with the user's folders first). Inlined frames come from
// the DWARF scopes around the address, as eu-addr2line -i does.
#include "symbolize_db.hpp"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "memlife/data/trace.hpp"
#include "store.hpp"

namespace memlife::data {

namespace {

struct Frame {
    std::string function, file;
    std::uint32_t line = 0;
};

std::string demangle(const char* name) {
    if (name == nullptr) return {};
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> out(
        abi::__cxa_demangle(name, nullptr, nullptr, &status), &std::free);
    return status == 0 && out ? std::string(out.get()) : std::string(name);
}

// The function a subprogram or inlined-subroutine DIE stands for, demangled.
std::string die_function(Dwarf_Die* die) {
    Dwarf_Attribute attr;
    if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) != nullptr ||
        dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr) != nullptr)
        if (const char* linkage = dwarf_formstring(&attr)) return demangle(linkage);
    if (dwarf_attr_integrate(die, DW_AT_name, &attr) != nullptr)
        if (const char* name = dwarf_formstring(&attr)) return name;
    return {};
}

std::uint64_t die_number(Dwarf_Die* die, unsigned attribute) {
    Dwarf_Attribute attr;
    Dwarf_Word value = 0;
    if (dwarf_attr(die, attribute, &attr) == nullptr || dwarf_formudata(&attr, &value) != 0)
        return 0;
    return value;
}

// A source file as an absolute path: the compiler records it relative to the folder it ran
// in (DW_AT_comp_dir) when it was given so (a CMake build with Ninja: "../src/x.cpp").
std::string source_path(const char* file, Dwarf_Die* cu) {
    if (file == nullptr) return {};
    if (file[0] == '/' || cu == nullptr) return file;
    Dwarf_Attribute attr;
    const char* dir =
        dwarf_attr(cu, DW_AT_comp_dir, &attr) != nullptr ? dwarf_formstring(&attr) : nullptr;
    if (dir == nullptr || dir[0] != '/') return file;
    return (std::filesystem::path(dir) / file).lexically_normal().string();
}

// The frames at code address `pc` (the call instruction of a return address), innermost
// first: the inlined functions, then the function they were inlined into.
std::vector<Frame> frames_at(Dwfl_Module* module, Dwarf_Addr pc, bool& with_lines) {
    std::vector<Frame> frames;
    with_lines = false;
    Frame where; // the source position of the innermost frame, then of each caller's call
    Dwarf_Addr bias = 0;
    Dwarf_Die* cu = dwfl_module_addrdie(module, pc, &bias);
    // Outside every compilation unit (_start, hand-written assembly) the nearest line
    // record belongs to other code: no line then.
    if (Dwfl_Line* line = cu != nullptr ? dwfl_module_getsrc(module, pc) : nullptr) {
        int number = 0;
        if (const char* file = dwfl_lineinfo(line, nullptr, &number, nullptr, nullptr, nullptr)) {
            where.file = source_path(file, cu);
            where.line = static_cast<std::uint32_t>(number > 0 ? number : 0);
            with_lines = true;
        }
    }
    if (cu != nullptr) {
        Dwarf_Die* scopes = nullptr;
        const int n = dwarf_getscopes(cu, pc - bias, &scopes);
        Dwarf_Files* files = nullptr;
        std::size_t file_count = 0;
        const bool have_files = dwarf_getsrcfiles(cu, &files, &file_count) == 0;
        for (int i = 0; i < n; ++i) {
            Dwarf_Die* scope = &scopes[i];
            const int tag = dwarf_tag(scope);
            if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine) continue;
            frames.push_back({die_function(scope), where.file, where.line});
            if (tag == DW_TAG_subprogram) break;
            // The caller's position is where this one was inlined.
            const std::uint64_t file = die_number(scope, DW_AT_call_file);
            where.line = static_cast<std::uint32_t>(die_number(scope, DW_AT_call_line));
            const char* name = have_files && file < file_count
                                   ? dwarf_filesrc(files, file, nullptr, nullptr)
                                   : nullptr;
            where.file = source_path(name, cu);
        }
        std::free(scopes);
    }
    if (frames.empty() || frames.back().function.empty()) {
        // No DWARF for it: the symbol table's name, if any.
        GElf_Off offset = 0;
        GElf_Sym symbol;
        const char* name =
            dwfl_module_addrinfo(module, pc, &offset, &symbol, nullptr, nullptr, nullptr);
        if (frames.empty()) frames.push_back({"", where.file, where.line});
        frames.back().function = demangle(name);
    }
    return frames;
}

// A build id as lower-case hex.
std::string hex(const unsigned char* bits, int length) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < length; ++i)
        out += digits[bits[i] >> 4], out += digits[bits[i] & 15];
    return out;
}

bool is_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// BEGIN now; ROLLBACK unless commit() was called.
class Transaction {
public:
    explicit Transaction(sqlite3* db) : db_(db) { exec("BEGIN"); }
    ~Transaction() {
        if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit() {
        exec("COMMIT");
        done_ = true;
    }

private:
    void exec(const char* sql) {
        if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
            throw store::SqlError(sqlite3_errmsg(db_));
    }
    sqlite3* db_;
    bool done_ = false;
};

struct ModuleRow {
    std::int64_t id = 0;
    std::string path, build_id;
    std::uint64_t load_address = 0;
};

// One module loaded into a Dwfl of its own.
class LoadedModule {
public:
    LoadedModule(const std::string& file, const ModuleRow& row, char** debuginfo_path) {
        callbacks_.find_elf = dwfl_build_id_find_elf;
        callbacks_.find_debuginfo = dwfl_standard_find_debuginfo;
        callbacks_.section_address = dwfl_offline_section_address;
        callbacks_.debuginfo_path = debuginfo_path;
        dwfl_ = dwfl_begin(&callbacks_);
        if (dwfl_ == nullptr) return;
        dwfl_report_begin(dwfl_);
        module_ =
            dwfl_report_elf(dwfl_, row.path.c_str(), file.c_str(), -1, row.load_address, false);
        dwfl_report_end(dwfl_, nullptr, nullptr);
    }
    ~LoadedModule() {
        if (dwfl_ != nullptr) dwfl_end(dwfl_);
    }
    LoadedModule(const LoadedModule&) = delete;
    LoadedModule& operator=(const LoadedModule&) = delete;

    Dwfl_Module* module() const { return module_; }
    std::string build_id() const {
        const unsigned char* bits = nullptr;
        GElf_Addr vaddr = 0;
        const int n = module_ != nullptr ? dwfl_module_build_id(module_, &bits, &vaddr) : 0;
        return n > 0 ? hex(bits, n) : std::string();
    }
    bool has_dwarf() const {
        Dwarf_Addr bias = 0;
        return module_ != nullptr && dwfl_module_getdwarf(module_, &bias) != nullptr;
    }

private:
    Dwfl_Callbacks callbacks_{};
    Dwfl* dwfl_ = nullptr;
    Dwfl_Module* module_ = nullptr;
};

// The recorded binary if it is still the same file (same build id), else a copy found by
// build id in the debug folders (a debug file made by objcopy --only-keep-debug keeps the
// program headers, so it serves alone). Null with `why` when none is.
std::unique_ptr<LoadedModule> load(const ModuleRow& row, const std::vector<std::string>& dirs,
                                   char** debuginfo_path, std::string& why) {
    std::vector<std::string> candidates{row.path};
    if (row.build_id.size() > 2) {
        const std::string tail =
            "/.build-id/" + row.build_id.substr(0, 2) + "/" + row.build_id.substr(2);
        for (const std::string& d : dirs)
            candidates.insert(candidates.end(), {d + tail, d + tail + ".debug"});
        candidates.insert(candidates.end(),
                          {"/usr/lib/debug" + tail, "/usr/lib/debug" + tail + ".debug"});
    }
    why = "no such file";
    for (const std::string& file : candidates) {
        if (!is_file(file)) continue;
        auto loaded = std::make_unique<LoadedModule>(file, row, debuginfo_path);
        if (loaded->module() == nullptr) {
            why = "not an ELF file it can read (" + std::string(dwfl_errmsg(-1)) + ")";
            continue;
        }
        if (!row.build_id.empty() && loaded->build_id() != row.build_id) {
            why = "the file changed since the recording (another build id)";
            continue;
        }
        return loaded;
    }
    return nullptr;
}

} // namespace

SymbolizeResult symbolize_database(sqlite3* db, const SymbolizeOptions& options) {
    SymbolizeResult result;
    // The user's folders first, then the standard places (dwfl_standard_find_debuginfo).
    std::string path_text;
    for (const std::string& d : options.debug_dirs)
        path_text += d + ":";
    path_text += ":.debug:/usr/lib/debug";
    char* debuginfo_path = path_text.data();

    std::vector<ModuleRow> modules;
    {
        constexpr const auto& c = store::kModuleColumns;
        store::Statement s(db, c.select("modules") +
                                   " WHERE symbolized != 1 AND id IN (SELECT module FROM "
                                   "stack_nodes) ORDER BY id");
        while (s.step())
            modules.push_back({s.i64(c["id"]), s.text(c["path"]), s.text(c["build_id"]),
                               s.u64(c["load_address"])});
    }
    store::Statement addresses(db, "SELECT DISTINCT address FROM stack_nodes WHERE module = ?");
    store::Statement forget(db, "DELETE FROM frames WHERE address IN (SELECT address FROM "
                                "stack_nodes WHERE module = ?)");
    store::Statement insert(db, store::kFrameColumns.insert("INSERT OR REPLACE INTO", "frames"));
    store::Statement mark(db, "UPDATE modules SET symbolized = ?2 WHERE id = ?1");
    Transaction transaction(db);
    for (const ModuleRow& row : modules) {
        ++result.modules;
        std::string why;
        const auto loaded = load(row, options.debug_dirs, &debuginfo_path, why);
        const bool lines = loaded != nullptr && loaded->has_dwarf();
        forget.bind(1, row.id);
        forget.run();
        addresses.bind(1, row.id);
        while (loaded != nullptr && addresses.step()) {
            const std::uint64_t address = addresses.u64(0);
            ++result.addresses;
            bool with_lines = false;
            // A return address: the call is the instruction before it.
            const std::vector<Frame> frames = frames_at(loaded->module(), address - 1, with_lines);
            result.addresses_with_lines += with_lines ? 1 : 0;
            for (std::size_t depth = 0; depth < frames.size(); ++depth) {
                constexpr const auto& c = store::kFrameColumns;
                insert.bind(c.param("address"), address)
                    .bind(c.param("inline_depth"), static_cast<std::uint64_t>(depth))
                    .bind(c.param("function"), std::string_view(frames[depth].function))
                    .bind(c.param("file"), std::string_view(frames[depth].file))
                    .bind(c.param("line"), frames[depth].line);
                insert.run();
            }
        }
        addresses.reset();
        // 1: debug information (functions, files, lines); 2: the symbol table's names only;
        // 3: no usable file.
        mark.bind(1, row.id).bind(2, lines ? 1 : loaded != nullptr ? 2 : 3);
        mark.run();
        if (lines) {
            ++result.modules_with_lines;
        } else {
            if (loaded != nullptr) why = "no debug information found (function names only)";
            result.problems.push_back(row.path + " (build id " +
                                      (row.build_id.empty() ? "none" : row.build_id) + "): " + why);
        }
    }
    transaction.commit();
    return result;
}

SymbolizeResult symbolize_trace(const std::string& path, const SymbolizeOptions& options) {
    std::uint32_t version = 0;
    {
        store::Database db = store::open_trace(path); // the checks every reader makes
        store::Statement v(db.get(), "PRAGMA user_version");
        if (v.step()) version = v.u32(0);
    }
    if (version < store::kStacksSchemaVersion) return {}; // no stacks recorded
    if (is_file(path + "-wal"))
        throw TraceError(TraceError::Kind::Usage, path,
                         "a -wal file lies next to it (the trace is still being recorded, or "
                         "its recording was killed): open it with memlife report first");
    // PATH.tmp-PID-0: the shape of the CLI's temporaries, which `memlife symbolize` removes
    // on an interruption and, left by a killed run, the next time (docs/cli.md, "Outputs").
    const std::string temp = path + ".tmp-" + std::to_string(::getpid()) + "-0";
    auto remove_temp = [&] {
        for (const char* suffix : {"", "-journal", "-wal", "-shm"})
            ::unlink((temp + suffix).c_str());
    };
    SymbolizeResult result;
    try {
        std::filesystem::copy_file(path, temp, std::filesystem::copy_options::overwrite_existing);
        store::Database db;
        if (sqlite3_open_v2(temp.c_str(), db.out(), SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
            throw store::SqlError(db.get() != nullptr ? sqlite3_errmsg(db.get()) : "cannot open");
        result = symbolize_database(db.get(), options);
        db.close();
        if (std::rename(temp.c_str(), path.c_str()) != 0)
            throw store::SqlError(std::string("cannot rename the symbolized copy into place (") +
                                  std::strerror(errno) + ")");
    } catch (const store::SqlError& e) {
        remove_temp();
        throw TraceError(TraceError::Kind::Io, path,
                         std::string("cannot symbolize (") + e.what() + ")");
    } catch (const std::filesystem::filesystem_error& e) {
        remove_temp();
        throw TraceError(TraceError::Kind::Io, path,
                         "cannot symbolize (" + e.code().message() + ")");
    }
    return result;
}

} // namespace memlife::data
