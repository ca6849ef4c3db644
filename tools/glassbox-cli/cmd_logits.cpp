// glassbox-cli logits: teacher-forced logits for every position of a text
// (or of a list of token ids), written as a float32 .npy [tokens, vocab].
#include <cstdio>

#include "engine/npy_writer.h"
#include "engine/session.h"
#include "engine/tokenizer.h"
#include "tools/glassbox-cli/cli_common.h"
#include "tools/glassbox-cli/commands.h"

namespace glassbox::cli {

int runLogits(const std::vector<std::string>& argv) {
    auto args = parseOrReport(argv, {"-m", "-f", "--ids", "-o", "--ids-out", "-c", "-t", "--ubatch", "--kv-type"}, {});
    if (!args) return 2;
    if (!args->has("-o")) return fail("an output file is required: -o OUT.npy");
    if (args->has("-f") == args->has("--ids")) return fail("give exactly one of -f TEXT_FILE or --ids IDS_FILE");
    auto model = loadModelOrReport(*args);
    if (!model) return 1;
    std::vector<int32_t> ids;
    if (args->has("-f")) {
        auto text = readTextFile(args->get("-f"));
        if (!text) return fail(text.error());
        ids = model->tokenizer().encode(*text, true, false);
    } else {
        auto read = readIdsFile(args->get("--ids"));
        if (!read) return fail(read.error());
        ids = std::move(*read);
    }
    if (ids.empty()) return fail("the input has no tokens");
    engine::BackendOptions opts;
    if (!backendOptionsFrom(*args, opts)) return 1;
    if (opts.contextSize == 0) opts.contextSize = int(ids.size());
    auto session = engine::Session::create(model, opts);
    if (!session) return fail(session.error());
    auto logits = (*session)->evaluateAll(ids);
    if (!logits) return fail(logits.error());
    auto st = engine::writeNpyF32(args->get("-o"), *logits, {int64_t(ids.size()), model->config().nVocab});
    if (!st) return fail(st.error());
    if (args->has("--ids-out")) {
        auto w = writeIdsFile(args->get("--ids-out"), ids);
        if (!w) return fail(w.error());
    }
    std::fprintf(stderr, "wrote logits for %zu tokens × %d vocabulary to %s\n", ids.size(), model->config().nVocab,
                 args->get("-o").c_str());
    return 0;
}

}  // namespace glassbox::cli
