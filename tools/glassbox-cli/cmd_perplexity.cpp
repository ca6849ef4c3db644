// glassbox-cli perplexity: llama.cpp's method — non-overlapping chunks of
// CTX tokens (the first token of each chunk replaced by BOS when the model
// adds one), scoring only the second half of every chunk.
#include <cmath>
#include <cstdio>

#include "engine/session.h"
#include "engine/tokenizer.h"
#include "tools/glassbox-cli/cli_common.h"
#include "tools/glassbox-cli/commands.h"

namespace glassbox::cli {
namespace {

double negLogProb(const float* logits, int nVocab, int target) {
    float maxL = logits[0];
    for (int i = 1; i < nVocab; ++i) maxL = std::max(maxL, logits[i]);
    double sum = 0.0;
    for (int i = 0; i < nVocab; ++i) sum += std::exp(double(logits[i]) - maxL);
    return -(double(logits[target]) - maxL - std::log(sum));
}

}  // namespace

int runPerplexity(const std::vector<std::string>& argv) {
    auto args = parseOrReport(argv, {"-m", "-f", "-c", "-t", "--ubatch", "--kv-type", "--chunks"}, {"--json"});
    if (!args) return 2;
    auto model = loadModelOrReport(*args);
    if (!model) return 1;
    auto text = readTextFile(args->get("-f"));
    if (!text) return fail(text.error());
    engine::BackendOptions opts;
    if (!backendOptionsFrom(*args, opts)) return 1;
    if (opts.contextSize == 0) opts.contextSize = 512;
    const int nCtx = opts.contextSize;
    const engine::Tokenizer& tok = model->tokenizer();
    std::vector<int32_t> ids = tok.encode(*text, true, false);
    std::string err;
    int nChunks = int(ids.size()) / nCtx;
    const long long maxChunks = args->getInt("--chunks", -1, err);
    if (!err.empty()) return fail(err);
    if (maxChunks > 0) nChunks = std::min<int>(nChunks, int(maxChunks));
    if (nChunks < 1)
        return fail("the text has " + std::to_string(ids.size()) + " tokens; need at least " +
                    std::to_string(nCtx) + " (one chunk of -c)");
    auto session = engine::Session::create(model, opts);
    if (!session) return fail(session.error());
    const bool addBos = tok.addBos();
    const int first = nCtx / 2;
    double nll = 0.0;
    long long scored = 0;
    for (int chunk = 0; chunk < nChunks; ++chunk) {
        std::vector<int32_t> batch(ids.begin() + size_t(chunk) * nCtx, ids.begin() + size_t(chunk + 1) * nCtx);
        if (addBos) batch[0] = tok.bos();
        (*session)->truncate(0);
        auto logits = (*session)->evaluateAll(batch);
        if (!logits) return fail(logits.error());
        for (int j = first; j < nCtx - 1; ++j) {
            nll += negLogProb(logits->data() + size_t(j) * model->config().nVocab, model->config().nVocab,
                              ids[size_t(chunk) * nCtx + j + 1]);
            ++scored;
        }
        if (!args->has("--json"))
            std::fprintf(stderr, "[%d] %.4f\n", chunk + 1, std::exp(nll / double(scored)));
    }
    const double ppl = std::exp(nll / double(scored));
    if (args->has("--json")) {
        std::printf("{\"perplexity\": %.6f, \"chunks\": %d, \"tokens_scored\": %lld, \"context\": %d}\n", ppl,
                    nChunks, scored, nCtx);
    } else {
        std::printf("perplexity: %.4f (%d chunks of %d tokens, %lld tokens scored)\n", ppl, nChunks, nCtx, scored);
    }
    return 0;
}

}  // namespace glassbox::cli
