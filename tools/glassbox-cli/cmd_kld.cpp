// glassbox-cli kld: a quantized model against a reference model (the same
// network at a higher precision), with llama-perplexity --kl-divergence's
// statistics (engine/kl_compare.h).
//   -m QUANT --reference REF (-f TEXT | --ids IDS)   chunked comparison of a text
//   -m QUANT --reference REF -p PROMPT [--threshold 0.99]
//                                 per-token KL, top-1 flips and residual drift per layer
//   -c CTX (512) -t N --ubatch N --kv-type f16|f32 --chunks N   as perplexity
//   --json          one JSON object on stdout
//   --ids-out FILE  the text's token ids (whitespace-separated), for peers
//   --per-token OUT.npy  float32 [positions, 7]: index of the predicted token,
//                   its id (-1: none), KL, log p_ref, log p_quant, top-1 ref, top-1 quant
//   --timing [--repeats N]  also time plain forward passes of both models
//                   over the same chunks and report the comparison's cost
//                   against them (fastest of N rounds of each)
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>

#include "engine/json.h"
#include "engine/kl_compare.h"
#include "engine/npy_writer.h"
#include "engine/session.h"
#include "engine/tokenizer.h"
#include "tools/glassbox-cli/cli_common.h"
#include "tools/glassbox-cli/commands.h"

namespace glassbox::cli {
namespace {

using engine::JsonValue;
using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Timing {
    double plain = 0;      // both models, evaluate() (logits of the last token only)
    double plainAll = 0;   // both models, evaluateAll() (logits of every token)
    double compare = 0;    // compareModels()
    int tokens = 0;        // tokens per model
};

engine::Status writePerToken(const std::string& path, const engine::KlScoredTokens& s,
                             const std::vector<int32_t>& tokens) {
    constexpr int kColumns = 7;
    std::vector<float> rows;
    rows.reserve(s.size() * kColumns);
    for (size_t i = 0; i < s.size(); ++i) {
        const int32_t index = s.index[i];
        const float next = index >= 0 && size_t(index) < tokens.size() ? float(tokens[size_t(index)]) : -1.0f;
        for (float v : {float(index), next, s.kld[i], s.logProbRef[i], s.logProbQuant[i], float(s.topRef[i]),
                        float(s.topQuant[i])})
            rows.push_back(v);
    }
    return engine::writeNpyF32(path, rows, {int64_t(s.size()), kColumns});
}

// Plain passes of both models over the same chunks, after a short warm-up;
// `all`: logits of every token (evaluateAll), else of the last (evaluate).
engine::Result<double> timePlainPasses(const std::shared_ptr<const engine::Model>& ref,
                                       const std::shared_ptr<const engine::Model>& quant,
                                       const std::vector<int32_t>& ids, const engine::KlCompareOptions& o,
                                       int chunks, bool all) {
    engine::BackendOptions b;
    b.contextSize = o.contextSize;
    b.threads = o.threads;
    b.microBatch = o.microBatch;
    b.kvType = o.kvType;
    double seconds = 0;
    for (const auto& model : {ref, quant}) {
        GB_ASSIGN_OR_RETURN(auto session, engine::Session::create(model, b));
        GB_TRY(session->evaluate(std::span<const int32_t>(ids.data(), std::min<size_t>(ids.size(), 16))));
        const auto t0 = Clock::now();
        for (int c = 0; c < chunks; ++c) {
            const std::span<const int32_t> chunk(ids.data() + size_t(c) * o.contextSize, size_t(o.contextSize));
            session->truncate(0);
            if (all) {
                GB_TRY(session->evaluateAll(chunk));
            } else {
                GB_TRY(session->evaluate(chunk));
            }
        }
        seconds += secondsSince(t0);
    }
    return seconds;
}

// The comparison, timed; with timing, `repeats` rounds of plain passes and
// comparison, keeping the fastest of each (robust against a busy machine).
engine::Result<engine::KlCompareResult> timedCompare(const std::shared_ptr<const engine::Model>& ref,
                                                     const std::shared_ptr<const engine::Model>& quant,
                                                     const std::vector<int32_t>& ids,
                                                     const engine::KlCompareOptions& o, bool timing, int repeats,
                                                     bool quiet, Timing& t) {
    int chunks = int(ids.size()) / o.contextSize;
    if (o.maxChunks > 0) chunks = std::min(chunks, o.maxChunks);
    t.tokens = chunks * o.contextSize;
    std::optional<engine::Result<engine::KlCompareResult>> result;
    for (int r = 0; r < (timing ? std::max(repeats, 1) : 1); ++r) {
        if (timing && chunks > 0) {
            GB_ASSIGN_OR_RETURN(const double plain, timePlainPasses(ref, quant, ids, o, chunks, false));
            GB_ASSIGN_OR_RETURN(const double plainAll, timePlainPasses(ref, quant, ids, o, chunks, true));
            t.plain = r == 0 ? plain : std::min(t.plain, plain);
            t.plainAll = r == 0 ? plainAll : std::min(t.plainAll, plainAll);
        }
        const auto t0 = Clock::now();
        result = engine::compareModels(ref, quant, ids, o, [&](int done, int total) {
            if (!quiet) std::fprintf(stderr, "\r[kld] pass %d/%d", done, total);
        });
        const double seconds = secondsSince(t0);
        t.compare = r == 0 ? seconds : std::min(t.compare, seconds);
        if (!quiet) std::fprintf(stderr, "\n");
        if (!result->ok()) break;
    }
    return std::move(*result);
}

void vwe(JsonValue& j, const std::string& key, const engine::ValueWithError& v) {
    j.set(key, v.value);
    j.set(key + "_error", v.error);
}

JsonValue statsJson(const engine::KlStatistics& s) {
    JsonValue j = JsonValue::makeObject();
    j.set("tokens_scored", s.count);
    vwe(j, "mean_kld", s.meanKld);
    j.set("median_kld", s.medianKld).set("p90_kld", s.p90Kld).set("p95_kld", s.p95Kld).set("p99_kld", s.p99Kld);
    j.set("p999_kld", s.p999Kld).set("max_kld", s.maxKld).set("min_kld", s.minKld);
    vwe(j, "same_top_p", s.sameTop);
    vwe(j, "ppl_ref", s.pplRef);
    vwe(j, "ppl_quant", s.pplQuant);
    vwe(j, "delta_ppl", s.deltaPpl);
    vwe(j, "ln_ppl_ratio", s.logPplRatio);
    j.set("ppl_correlation", s.pplCorrelation);
    vwe(j, "mean_delta_p", s.meanDeltaP);
    vwe(j, "rms_delta_p", s.rmsDeltaP);
    return j;
}

void printJson(const CliArgs& args, const engine::KlCompareResult& r, const Timing& timing, int64_t tokens,
               long long repeats) {
    JsonValue j = statsJson(r.stats);
    j.set("reference", args.get("--reference")).set("quantized", args.get("-m"));
    j.set("context", r.contextSize).set("chunks", r.chunks).set("tokens", tokens);
    j.set("seconds", timing.compare);
    if (args.has("--timing"))
        j.set("timing", JsonValue::makeObject().set("tokens_per_model", timing.tokens).set("repeats", repeats)
                            .set("plain_seconds", timing.plain).set("plain_all_logits_seconds", timing.plainAll)
                            .set("kld_seconds", timing.compare).set("ratio", timing.compare / timing.plain)
                            .set("ratio_all_logits", timing.compare / timing.plainAll));
    std::printf("%s\n", engine::dumpJson(j).c_str());
}

void printStats(const engine::KlStatistics& s) {
    std::printf("====== Perplexity statistics ======\n");
    std::printf("Mean PPL(Q)                   : %10.6f ± %10.6f\n", s.pplQuant.value, s.pplQuant.error);
    std::printf("Mean PPL(base)                : %10.6f ± %10.6f\n", s.pplRef.value, s.pplRef.error);
    std::printf("Cor(ln(PPL(Q)), ln(PPL(base))): %6.2f%%\n", 100.0 * s.pplCorrelation);
    std::printf("Mean ln(PPL(Q)/PPL(base))     : %10.6f ± %10.6f\n", s.logPplRatio.value, s.logPplRatio.error);
    std::printf("Mean PPL(Q)-PPL(base)         : %10.6f ± %10.6f\n\n", s.deltaPpl.value, s.deltaPpl.error);
    std::printf("====== KL divergence statistics ======\n");
    std::printf("Mean    KLD: %10.6f ± %10.6f\n", s.meanKld.value, s.meanKld.error);
    std::printf("Maximum KLD: %10.6f\n99.9%%   KLD: %10.6f\n99.0%%   KLD: %10.6f\n", s.maxKld, s.p999Kld, s.p99Kld);
    std::printf("95.0%%   KLD: %10.6f\n90.0%%   KLD: %10.6f\nMedian  KLD: %10.6f\n", s.p95Kld, s.p90Kld, s.medianKld);
    std::printf("Minimum KLD: %10.6f\n\n", s.minKld);
    std::printf("====== Token probability statistics ======\n");
    std::printf("Mean    Δp: %6.3f ± %5.3f %%\n", 100.0 * s.meanDeltaP.value, 100.0 * s.meanDeltaP.error);
    std::printf("RMS Δp    : %6.3f ± %5.3f %%\n", 100.0 * s.rmsDeltaP.value, 100.0 * s.rmsDeltaP.error);
    std::printf("Same top p: %6.3f ± %5.3f %%\n", 100.0 * s.sameTop.value, 100.0 * s.sameTop.error);
}

std::string escapedPiece(const engine::Tokenizer& tok, int32_t id) {
    std::string out;
    for (char c : tok.tokenText(id)) out += c == '\n' ? std::string("\\n") : std::string(1, c);
    return out;
}

int runPromptMode(const CliArgs& args, const std::shared_ptr<const engine::Model>& ref,
                  const std::shared_ptr<const engine::Model>& quant, const engine::BackendOptions& b) {
    std::string err;
    engine::PromptDriftOptions o;
    o.threads = b.threads;
    o.kvType = b.kvType;
    o.cosineThreshold = args.getDouble("--threshold", 0.99, err);
    if (!err.empty()) return fail(err);
    const engine::Tokenizer& tok = quant->tokenizer();
    const std::vector<int32_t> ids = tok.encode(args.get("-p"), true, true);
    auto drift = engine::comparePrompt(ref, quant, ids, o);
    if (!drift) return fail(drift.error());
    const engine::PromptDrift& d = *drift;
    if (args.has("--per-token")) {
        auto st = writePerToken(args.get("--per-token"), d.perToken, d.tokens);
        if (!st) return fail(st.error());
    }
    if (args.has("--json")) {
        JsonValue j = JsonValue::makeObject();
        JsonValue tokens = JsonValue::makeArray(), kld = JsonValue::makeArray(), flips = JsonValue::makeArray();
        for (size_t i = 0; i < d.tokens.size(); ++i) {
            tokens.push(d.tokens[i]);
            kld.push(double(d.perToken.kld[i]));
            flips.push(!d.perToken.sameTop(i));
        }
        JsonValue mean = JsonValue::makeArray();
        for (float c : d.meanCosine) mean.push(double(c));
        j.set("tokens", std::move(tokens)).set("kld", std::move(kld)).set("flip", std::move(flips));
        j.set("flips", d.flips).set("mean_cosine", std::move(mean)).set("threshold", d.threshold);
        j.set("first_drift_point", d.firstDriftPoint);
        std::printf("%s\n", engine::dumpJson(j).c_str());
        return 0;
    }
    std::printf("%5s  %-18s %10s  %s\n", "pos", "token", "KL (next)", "top-1 ref -> quant");
    for (size_t i = 0; i < d.tokens.size(); ++i)
        std::printf("%5zu  %-18s %10.6f  %s -> %s%s\n", i, escapedPiece(tok, d.tokens[i]).c_str(),
                    double(d.perToken.kld[i]), escapedPiece(tok, d.perToken.topRef[i]).c_str(),
                    escapedPiece(tok, d.perToken.topQuant[i]).c_str(), d.perToken.sameTop(i) ? "" : "   FLIP");
    std::printf("\n%d of %zu top-1 tokens flip\n\nresidual stream cosine (mean over positions):\n", d.flips,
                d.tokens.size());
    for (int p = 0; p < d.points; ++p)
        std::printf("  %-10s %.6f\n", p == 0 ? "embedding" : ("layer " + std::to_string(p - 1)).c_str(),
                    double(d.meanCosine[size_t(p)]));
    if (d.firstDriftPoint < 0) std::printf("no layer falls below %.4g\n", d.threshold);
    else if (d.firstDriftPoint == 0) std::printf("already below %.4g at the embedding\n", d.threshold);
    else std::printf("first layer below %.4g: layer %d\n", d.threshold, d.firstDriftPoint - 1);
    return 0;
}

}  // namespace

int runKld(const std::vector<std::string>& argv) {
    auto args = parseOrReport(argv, {"-m", "--reference", "-f", "--ids", "-p", "-c", "-t", "--ubatch", "--kv-type",
                                     "--chunks", "--ids-out", "--per-token", "--threshold", "--repeats"},
                              {"--json", "--timing"});
    if (!args) return 2;
    if (!args->has("--reference")) return fail("a reference model is required: --reference REF.gguf");
    if (int(args->has("-f")) + int(args->has("--ids")) + int(args->has("-p")) != 1)
        return fail("give exactly one of -f TEXT_FILE, --ids IDS_FILE or -p PROMPT");
    auto quant = loadModelOrReport(*args);
    if (!quant) return 1;
    auto ref = engine::Model::load(args->get("--reference"));
    if (!ref) return fail("cannot load '" + args->get("--reference") + "': " + ref.error().toString());
    engine::BackendOptions b;
    if (!backendOptionsFrom(*args, b)) return 1;
    if (args->has("-p")) return runPromptMode(*args, *ref, quant, b);

    std::vector<int32_t> ids;
    if (args->has("-f")) {
        auto text = readTextFile(args->get("-f"));
        if (!text) return fail(text.error());
        ids = engine::tokenizeForKl(**ref, *text);
    } else {
        auto read = readIdsFile(args->get("--ids"));
        if (!read) return fail(read.error());
        ids = std::move(*read);
    }
    if (args->has("--ids-out")) {
        auto w = writeIdsFile(args->get("--ids-out"), ids);
        if (!w) return fail(w.error());
    }
    std::string err;
    engine::KlCompareOptions o;
    o.contextSize = b.contextSize > 0 ? b.contextSize : 512;
    o.threads = b.threads;
    o.microBatch = b.microBatch;
    o.kvType = b.kvType;
    o.maxChunks = int(args->getInt("--chunks", 0, err));
    if (!err.empty()) return fail(err);

    const long long repeats = args->getInt("--repeats", 1, err);
    if (!err.empty()) return fail(err);
    const bool json = args->has("--json");
    Timing timing;
    auto result = timedCompare(*ref, quant, ids, o, args->has("--timing"), int(repeats), json, timing);
    if (!result) return fail(result.error());
    if (args->has("--per-token")) {
        auto st = writePerToken(args->get("--per-token"), result->scored, result->tokens);
        if (!st) return fail(st.error());
    }
    if (json) {
        printJson(*args, *result, timing, int64_t(ids.size()), repeats);
        return 0;
    }
    const engine::KlStatistics& s = result->stats;
    std::printf("%s against %s: %d chunks of %d tokens, %lld positions scored, %.1f s\n\n", args->get("-m").c_str(),
                args->get("--reference").c_str(), result->chunks, result->contextSize,
                static_cast<long long>(s.count), timing.compare);
    printStats(s);
    if (args->has("--timing"))
        std::printf("\ntiming (%d tokens per model): plain passes %.2f s (all logits %.2f s), kld %.2f s: "
                    "%.2f× (%.2f×)\n",
                    timing.tokens, timing.plain, timing.plainAll, timing.compare, timing.compare / timing.plain,
                    timing.compare / timing.plainAll);
    return 0;
}

}  // namespace glassbox::cli
