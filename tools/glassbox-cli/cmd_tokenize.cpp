// glassbox-cli tokenize: text to token ids with the model's tokenizer. Reads
// only the tokenizer (GGUF metadata, or tokenizer.json in a checkpoint
// directory), never the weights.
//   -p TEXT         print a table of id, vocabulary piece and decoded text
//   -f FILE         the same for a file's contents
//   --lines FILE    JSON-lines of strings: one line of space-separated ids each
//   --pre NAME      override the BPE pre-tokenizer (smollm, gpt2, llama3, qwen2)
//   --add-special   add bos/eos as the vocabulary asks
//   --no-parse-special  treat "<|im_end|>" and the like as plain text
//   --ids           print only the ids (for -p / -f)
//   --time          report encoding speed on stderr
//   --roundtrip     with --lines: count lines where decode(encode(line)) == line
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/gguf_file.h"
#include "engine/json.h"
#include "engine/mapped_file.h"
#include "engine/pretokenizer.h"
#include "engine/tokenizer.h"
#include "engine/unicode_data.h"
#include "engine/vocab.h"
#include "tools/glassbox-cli/cli_common.h"
#include "tools/glassbox-cli/commands.h"

namespace glassbox::cli {

namespace {

using engine::Result;

Result<engine::VocabData> loadVocab(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        GB_ASSIGN_OR_RETURN(std::string json, readTextFile((std::filesystem::path(path) / "tokenizer.json").string()));
        auto config = readTextFile((std::filesystem::path(path) / "tokenizer_config.json").string());
        return engine::vocabFromTokenizerJson(json, config ? *config : std::string());
    }
    if (path.size() > 5 && path.substr(path.size() - 5) == ".json") {
        GB_ASSIGN_OR_RETURN(std::string json, readTextFile(path));
        return engine::vocabFromTokenizerJson(json, {});
    }
    GB_ASSIGN_OR_RETURN(engine::MappedFile file, engine::MappedFile::open(path));
    GB_ASSIGN_OR_RETURN(engine::GgufFile gguf, engine::GgufFile::parse(file.bytes()));
    return engine::vocabFromGguf(gguf);
}

// Bytes shown with C-style escapes for control characters, backslash and
// bytes that are not valid UTF-8.
std::string escaped(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        char buf[8];
        if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c == '\r') out += "\\r";
        else if (c == '\\') out += "\\\\";
        else if (c < 0x20 || c == 0x7F) {
            std::snprintf(buf, sizeof buf, "\\x%02X", c);
            out += buf;
        } else if (c < 0x80) {
            out += char(c);
        } else {
            size_t len = 0;
            const uint32_t cp = engine::decodeUtf8(s, i, len);
            if (cp >= engine::kInvalidByteBase) {
                std::snprintf(buf, sizeof buf, "\\x%02X", c);
                out += buf;
            } else {
                out.append(s.substr(i, len));
                i += len - 1;
            }
        }
    }
    return out;
}

void printIds(const std::vector<int32_t>& ids) {
    std::string line;
    for (size_t i = 0; i < ids.size(); ++i) {
        if (i) line += ' ';
        line += std::to_string(ids[i]);
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stdout);
}

// `s` padded with spaces to `width` characters (counting codepoints).
std::string padded(const std::string& s, size_t width) {
    size_t chars = 0;
    for (char c : s) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    return chars >= width ? s : s + std::string(width - chars, ' ');
}

void printTable(const engine::Tokenizer& tok, const std::vector<int32_t>& ids) {
    std::printf("%8s  %s  %s\n", "id", padded("piece", 24).c_str(), "text");
    for (int32_t id : ids) {
        const std::string piece = padded(escaped(tok.tokenPiece(id)), 24);
        std::string text(1, '"');
        text += escaped(tok.tokenText(id));
        text += '"';
        if (tok.isControl(id)) text += "  (control)";
        std::printf("%8d  %s  %s\n", id, piece.c_str(), text.c_str());
    }
    std::printf("%zu tokens\n", ids.size());
}

struct LinesOptions {
    bool addSpecial = false;
    bool parseSpecial = true;
    bool timeIt = false;
    bool roundTrip = false;
};

// Lines whose decoded ids differ from the text (a vocabulary may lack some
// bytes); reported on stderr.
size_t countRoundTripFailures(const engine::Tokenizer& tok, const std::vector<std::string>& lines,
                              const std::vector<std::vector<int32_t>>& all) {
    size_t bad = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
        if (tok.decode(all[i]) == lines[i]) continue;
        if (++bad <= 5) std::fprintf(stderr, "round trip differs on line %zu\n", i + 1);
    }
    std::fprintf(stderr, "round trip: %zu/%zu lines identical\n", lines.size() - bad, lines.size());
    return bad;
}

int runLines(const engine::Tokenizer& tok, const std::string& path, const LinesOptions& opt) {
    auto content = readTextFile(path);
    if (!content) return fail(content.error());
    std::vector<std::string> lines;
    size_t start = 0;
    const std::string& text = *content;
    size_t lineNo = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        ++lineNo;
        const std::string_view raw(text.data() + start, end - start);
        start = end + 1;
        if (raw.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        auto value = engine::parseJson(raw);
        if (!value || !value->isString()) {
            return fail(path + ":" + std::to_string(lineNo) + ": each line must be a JSON string");
        }
        lines.emplace_back(*value->asString());
    }
    size_t bytes = 0;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::vector<int32_t>> all;
    all.reserve(lines.size());
    for (const std::string& line : lines) {
        all.push_back(tok.encode(line, opt.addSpecial, opt.parseSpecial));
        bytes += line.size();
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (const auto& ids : all) printIds(ids);
    if (opt.timeIt) {
        std::fprintf(stderr, "encoded %zu lines, %zu bytes in %.3f s (%.2f MB/s)\n", lines.size(), bytes, secs,
                     secs > 0 ? double(bytes) / secs / 1e6 : 0.0);
    }
    if (opt.roundTrip) countRoundTripFailures(tok, lines, all);
    return 0;
}

}  // namespace

int runTokenize(const std::vector<std::string>& args) {
    auto parsed = parseOrReport(args, {"-m", "-p", "-f", "--lines", "--pre"},
                                {"--add-special", "--no-parse-special", "--ids", "--time", "--roundtrip"});
    if (!parsed) return 2;
    const CliArgs& a = *parsed;
    const std::string model = a.get("-m");
    if (model.empty()) return fail("a model is required: -m MODEL (.gguf, tokenizer.json or a checkpoint directory)");
    auto vocab = loadVocab(model);
    if (!vocab) return fail("cannot read the tokenizer of '" + model + "': " + vocab.error().toString());
    if (a.has("--pre")) {
        const std::string pre = a.get("--pre");
        if (!engine::preTokenizerKindFromName(pre)) return fail("unknown pre-tokenizer '" + pre + "'");
        vocab->pre = pre;
        vocab->ignoreMerges = engine::preTokenizerIgnoresMerges(pre);
    }
    auto tok = engine::Tokenizer::create(std::move(*vocab));
    if (!tok) return fail(tok.error());
    const bool addSpecial = a.has("--add-special");
    const bool parseSpecial = !a.has("--no-parse-special");
    if (a.has("--lines")) {
        return runLines(*tok, a.get("--lines"), LinesOptions{addSpecial, parseSpecial, a.has("--time"),
                                                             a.has("--roundtrip")});
    }

    std::string text;
    if (a.has("-p")) {
        text = a.get("-p");
    } else if (a.has("-f")) {
        auto content = readTextFile(a.get("-f"));
        if (!content) return fail(content.error());
        text = std::move(*content);
    } else {
        return fail("give the text with -p TEXT, -f FILE or --lines FILE");
    }
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<int32_t> ids = tok->encode(text, addSpecial, parseSpecial);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (a.has("--ids")) {
        printIds(ids);
    } else {
        printTable(*tok, ids);
    }
    if (a.has("--time")) {
        std::fprintf(stderr, "encoded %zu bytes in %.3f s (%.2f MB/s)\n", text.size(), secs,
                     secs > 0 ? double(text.size()) / secs / 1e6 : 0.0);
    }
    return 0;
}

}  // namespace glassbox::cli
