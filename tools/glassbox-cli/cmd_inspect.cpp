// glassbox-cli inspect: run a prompt (and optionally a few greedy tokens)
// with every probe on, and write what the model computed: capture.json
// (geometry, tokens, executed ops with shapes, weights, activation
// statistics, attention row summaries), tokens.json, and on request the
// attention maps per layer, the residual stream and the logit lens.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "engine/capture.h"
#include "engine/capture_export.h"
#include "engine/logit_lens.h"
#include "engine/session.h"
#include "engine/tokenizer.h"
#include "tools/glassbox-cli/cli_common.h"
#include "tools/glassbox-cli/commands.h"

namespace glassbox::cli {
namespace {

engine::Result<std::vector<int32_t>> promptIds(const CliArgs& args, const engine::Model& model) {
    if (args.has("--prompt-ids")) return readIdsFile(args.get("--prompt-ids"));
    std::string text = args.get("-p");
    if (args.has("-f")) {
        GB_ASSIGN_OR_RETURN(text, readTextFile(args.get("-f")));
    }
    return model.tokenizer().encode(text, true, true);
}

std::string idsJson(const std::vector<int32_t>& ids) {
    std::string s = "[";
    for (size_t i = 0; i < ids.size(); ++i) s += std::string(i ? "," : "") + std::to_string(ids[i]);
    return s + "]\n";
}

engine::Status writeOutputs(const CliArgs& args, const std::string& dir, engine::Session& session,
                            const engine::Capture& cap) {
    const engine::Tokenizer& tok = session.model().tokenizer();
    std::vector<std::string> texts;
    for (int32_t id : cap.tokens()) texts.push_back(tok.tokenText(id));
    GB_TRY(engine::writeTextFile(dir + "/capture.json", engine::captureToJson(cap, texts)));
    GB_TRY(engine::writeTextFile(dir + "/tokens.json", idsJson(cap.tokens())));
    if (args.has("--attention-npy"))
        for (int l = 0; l < cap.geometry().nLayers; ++l)
            GB_TRY(engine::writeAttentionNpy(cap, l, !args.has("--scores"),
                                             dir + "/attention_L" + std::to_string(l) + ".npy"));
    if (args.has("--residual-npy")) GB_TRY(engine::writeResidualNpy(cap, dir + "/residual.npy"));
    if (args.has("--lens")) {
        GB_ASSIGN_OR_RETURN(auto lens, engine::computeLogitLens(session, cap, 0, cap.positions(), 5));
        std::vector<std::string> vocab;
        for (int32_t id = 0; id < session.model().config().nVocab; ++id) vocab.push_back(tok.tokenText(id));
        GB_TRY(engine::writeTextFile(dir + "/logit_lens.json", engine::logitLensToJson(lens, vocab)));
    }
    return {};
}

}  // namespace

int runInspect(const std::vector<std::string>& argv) {
    auto args = parseOrReport(argv, {"-m", "-p", "-f", "--prompt-ids", "-n", "--out", "-c", "-t", "--ubatch", "--kv-type"},
                              {"--attention-npy", "--scores", "--residual-npy", "--lens"});
    if (!args) return 2;
    if (!args->has("--out")) return fail("an output folder is required: --out DIR");
    if (int(args->has("-p")) + int(args->has("-f")) + int(args->has("--prompt-ids")) != 1)
        return fail("give exactly one of -p TEXT, -f TEXT_FILE or --prompt-ids IDS_FILE");
    std::string err;
    const int nGen = int(args->getInt("-n", 0, err));
    if (!err.empty() || nGen < 0) return fail("-n must be a number >= 0");
    auto model = loadModelOrReport(*args);
    if (!model) return 1;
    auto ids = promptIds(*args, *model);
    if (!ids) return fail(ids.error());
    if (ids->empty()) return fail("the prompt has no tokens");
    engine::BackendOptions opts;
    if (!backendOptionsFrom(*args, opts)) return 1;
    if (opts.contextSize == 0) opts.contextSize = int(ids->size()) + nGen + 1;
    auto session = engine::Session::create(model, opts);
    if (!session) return fail(session.error());
    auto cap = std::make_shared<engine::Capture>(*model, engine::CaptureOptions::all(), opts.kvType);
    (*session)->attachCapture(cap);
    const auto t0 = std::chrono::steady_clock::now();
    auto st = (*session)->evaluate(*ids);
    for (int i = 0; st && i < nGen; ++i) {
        const auto logits = (*session)->lastLogits();
        const int32_t next = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
        st = (*session)->evaluate(std::span<const int32_t>(&next, 1));
    }
    if (!st) return fail(st.error());
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::string dir = args->get("--out");
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail("cannot create '" + dir + "': " + ec.message());
    auto w = writeOutputs(*args, dir, **session, *cap);
    if (!w) return fail(w.error());
    std::fprintf(stderr, "recorded %d positions (%.1f MiB, %llu bytes per position) in %.2f s; wrote %s\n",
                 cap->positions(), double(cap->bytes()) / (1 << 20),
                 static_cast<unsigned long long>(cap->bytesPerPosition()), secs, dir.c_str());
    if (!cap->limitMessage().empty()) std::fprintf(stderr, "note: %s\n", cap->limitMessage().c_str());
    return 0;
}

}  // namespace glassbox::cli
