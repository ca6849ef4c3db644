// Generation loop.
#include "engine/generator.h"

#include <algorithm>
#include <chrono>

#include "engine/model.h"
#include "engine/session.h"
#include "engine/stop_strings.h"
#include "engine/tokenizer.h"

namespace glassbox::engine {
namespace {

double secondsSince(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Reuse the cached prefix shared with the new prompt; always re-run at least
// the last prompt token so fresh logits exist.
int reusablePrefix(const Session& s, const std::vector<int32_t>& prompt) {
    const auto& have = s.tokens();
    const size_t usable = size_t(s.capturedPrefix());  // a capture needs every position recorded
    size_t n = 0;
    while (n < usable && n < prompt.size() && have[n] == prompt[n]) ++n;
    if (n == prompt.size() && n > 0) --n;
    return int(n);
}

}  // namespace

const char* stopReasonName(StopReason reason) {
    switch (reason) {
        case StopReason::MaxTokens: return "max_tokens";
        case StopReason::EndOfGeneration: return "end_of_generation";
        case StopReason::StopString: return "stop_string";
        case StopReason::ContextFull: return "context_full";
        case StopReason::Cancelled: return "cancelled";
    }
    return "unknown";
}

double GenerationResult::prefillTokensPerSecond() const {
    const int n = int(promptTokens.size()) - reusedPromptTokens;
    return prefillSeconds > 0 ? n / prefillSeconds : 0.0;
}

double GenerationResult::decodeTokensPerSecond() const {
    // The first token comes from the prefill logits; later ones each cost a step.
    const int steps = std::max(0, int(tokens.size()) - 1);
    return decodeSeconds > 0 ? steps / decodeSeconds : 0.0;
}

Result<GenerationResult> generate(Session& session, const GenerationRequest& request, const TokenCallback& onToken,
                                  std::stop_token stop) {
    if (request.prompt.empty()) return makeError(ErrorCode::InvalidArgument, "the prompt has no tokens", "prompt");
    GB_ASSIGN_OR_RETURN(Sampler sampler, Sampler::create(request.sampling));
    const Tokenizer& tok = session.model().tokenizer();
    GenerationResult result;
    result.promptTokens = request.prompt;
    result.seed = sampler.seed();

    const int reuse = reusablePrefix(session, request.prompt);
    session.truncate(reuse);
    result.reusedPromptTokens = reuse;
    auto t0 = std::chrono::steady_clock::now();
    std::span<const int32_t> rest(request.prompt.data() + reuse, request.prompt.size() - size_t(reuse));
    Status st = session.evaluate(rest, stop);
    if (!st) {
        if (st.error().code == ErrorCode::Cancelled) {
            result.stopReason = StopReason::Cancelled;
            return result;
        }
        return st.error();
    }
    result.prefillSeconds = secondsSince(t0);

    StopStringMatcher matcher(request.sampling.stopStrings);
    TokenStreamDecoder decoder(tok, true);
    auto t1 = std::chrono::steady_clock::now();
    for (int i = 0;; ++i) {
        GeneratedToken gt;
        gt.index = i;
        GB_TRY(sampler.sample(session.lastLogits(), session.tokens(), gt.sample));
        gt.id = gt.sample.token;
        const bool eog = tok.isEndOfGeneration(gt.id);
        if (!eog) {
            auto step = matcher.feed(decoder.push(gt.id));
            gt.text = std::move(step.text);
            result.text += gt.text;
            if (step.stopped) result.stopReason = StopReason::StopString;
        } else {
            result.stopReason = StopReason::EndOfGeneration;
        }
        if (onToken) onToken(gt);
        const int32_t id = gt.id;
        if (request.keepTokens) result.tokens.push_back(std::move(gt));
        if (eog || matcher.stopped()) break;
        if (i + 1 >= request.sampling.maxTokens) { result.stopReason = StopReason::MaxTokens; break; }
        if (stop.stop_requested()) { result.stopReason = StopReason::Cancelled; break; }
        if (session.position() + 1 > session.contextSize()) { result.stopReason = StopReason::ContextFull; break; }
        st = session.evaluate(std::span<const int32_t>(&id, 1), stop);
        if (!st) {
            if (st.error().code != ErrorCode::Cancelled) return st.error();
            result.stopReason = StopReason::Cancelled;
            break;
        }
    }
    if (!matcher.stopped()) {
        std::string tail = matcher.feed(decoder.flush()).text + matcher.flush();
        result.text += tail;
        if (!tail.empty() && onToken && !result.tokens.empty()) {
            GeneratedToken flushTok = result.tokens.back();
            flushTok.text = tail;
            flushTok.index = -1;  // marks trailing text, not a new token
            onToken(flushTok);
        }
    }
    result.decodeSeconds = secondsSince(t1);
    return result;
}

}  // namespace glassbox::engine
