// glassbox-cli generate: stream a completion (or a chat reply) with every
// sampler setting of the engine exposed as a flag.
#include <cstdio>

#include "engine/chat_template.h"
#include "engine/generator.h"
#include "engine/session.h"
#include "engine/tokenizer.h"
#include "tools/glassbox-cli/cli_common.h"
#include "tools/glassbox-cli/commands.h"

namespace glassbox::cli {
namespace {

const std::vector<std::string> kValueOptions = {
    "-m", "-p", "-f", "-n", "-t", "-c", "--ubatch", "--kv-type", "--system", "--temp", "--top-k", "--top-p",
    "--min-p", "--repeat-penalty", "--repeat-last-n", "--presence-penalty", "--frequency-penalty", "--seed",
    "--stop", "--ids-out", "--prompt-ids", "--logprobs", "--chat-format"};
const std::vector<std::string> kSwitches = {"--chat", "--raw-prompt", "--show-logprobs", "--quiet"};

bool samplerFrom(const CliArgs& a, engine::SamplerSettings& s) {
    std::string err;
    s.maxTokens = int32_t(a.getInt("-n", 128, err));
    s.temperature = float(a.getDouble("--temp", s.temperature, err));
    s.topK = int32_t(a.getInt("--top-k", s.topK, err));
    s.topP = float(a.getDouble("--top-p", s.topP, err));
    s.minP = float(a.getDouble("--min-p", s.minP, err));
    s.repeatPenalty = float(a.getDouble("--repeat-penalty", s.repeatPenalty, err));
    s.penaltyLastN = int32_t(a.getInt("--repeat-last-n", s.penaltyLastN, err));
    s.presencePenalty = float(a.getDouble("--presence-penalty", s.presencePenalty, err));
    s.frequencyPenalty = float(a.getDouble("--frequency-penalty", s.frequencyPenalty, err));
    s.topLogprobs = int32_t(a.getInt("--logprobs", s.topLogprobs, err));
    if (a.has("--seed")) s.seed = uint64_t(a.getInt("--seed", 0, err));
    s.stopStrings = a.getAll("--stop");
    if (!err.empty()) { fail(err); return false; }
    auto valid = s.validate();
    if (!valid) { fail(valid.error()); return false; }
    return true;
}

engine::Result<std::string> buildPrompt(const CliArgs& a, const engine::Model& model, const std::string& text) {
    if (!a.has("--chat")) return text;
    engine::ChatTemplateInfo layout;
    if (a.has("--chat-format")) {
        GB_ASSIGN_OR_RETURN(engine::ChatFormat f, engine::chatFormatFromName(a.get("--chat-format")));
        layout = engine::chatTemplateFor(f);
    } else {
        GB_ASSIGN_OR_RETURN(layout, engine::detectChatTemplate(model.chatTemplate()));
    }
    std::vector<engine::ChatMessage> messages;
    if (a.has("--system")) messages.push_back({"system", a.get("--system")});
    messages.push_back({"user", text});
    const engine::Tokenizer& tok = model.tokenizer();
    const std::string bos = tok.bos() >= 0 ? tok.tokenText(tok.bos()) : std::string();
    const std::string eos = tok.eos() >= 0 ? tok.tokenText(tok.eos()) : std::string();
    return engine::formatChat(layout, messages, true, bos, eos);
}

void printLogprobs(const engine::GeneratedToken& t, const engine::Tokenizer& tok) {
    std::fprintf(stderr, "[%d] %-16s id %6d  logprob %8.4f  alternatives:", t.index,
                 ("'" + tok.tokenText(t.id) + "'").c_str(), t.id, t.sample.logprob);
    for (const auto& alt : t.sample.topAlternatives)
        std::fprintf(stderr, " '%s' %.4f", tok.tokenText(alt.id).c_str(), alt.logprob);
    std::fprintf(stderr, "\n");
}

}  // namespace

int runGenerate(const std::vector<std::string>& argv) {
    auto args = parseOrReport(argv, kValueOptions, kSwitches);
    if (!args) return 2;
    engine::SamplerSettings sampling;
    if (!samplerFrom(*args, sampling)) return 2;
    auto model = loadModelOrReport(*args);
    if (!model) return 1;
    std::string text = args->get("-p");
    if (args->has("-f")) {
        auto file = readTextFile(args->get("-f"));
        if (!file) return fail(file.error());
        text = *file;
    }
    auto prompt = buildPrompt(*args, *model, text);
    if (!prompt) return fail(prompt.error());
    const engine::Tokenizer& tok = model->tokenizer();
    // Chat prompts carry their own special tokens; raw prompts are plain text.
    const bool chat = args->has("--chat");
    engine::GenerationRequest req;
    req.prompt = tok.encode(*prompt, !args->has("--raw-prompt") && !chat ? true : false, chat);
    if (chat && tok.addBos() && (req.prompt.empty() || req.prompt[0] != tok.bos()))
        req.prompt.insert(req.prompt.begin(), tok.bos());
    if (args->has("--prompt-ids")) {
        auto ids = readIdsFile(args->get("--prompt-ids"));
        if (!ids) return fail(ids.error());
        req.prompt = std::move(*ids);
        text = tok.decode(req.prompt);
    }
    if (req.prompt.empty()) return fail("the prompt is empty");
    req.sampling = sampling;
    engine::BackendOptions opts;
    if (!backendOptionsFrom(*args, opts)) return 1;
    auto session = engine::Session::create(model, opts);
    if (!session) return fail(session.error());
    const bool showLogprobs = args->has("--show-logprobs");
    if (!args->has("--quiet") && !chat) std::fputs(text.c_str(), stdout);
    auto result = engine::generate(**session, req, [&](const engine::GeneratedToken& t) {
        std::fputs(t.text.c_str(), stdout);
        std::fflush(stdout);
        if (showLogprobs && t.index >= 0) printLogprobs(t, tok);
    });
    std::fputs("\n", stdout);
    if (!result) return fail(result.error());
    std::fprintf(stderr, "\n[%zu prompt tokens, %zu generated, stop: %s, seed %llu | prefill %.1f t/s, decode %.1f t/s]\n",
                 result->promptTokens.size(), result->tokens.size(), engine::stopReasonName(result->stopReason),
                 static_cast<unsigned long long>(result->seed), result->prefillTokensPerSecond(),
                 result->decodeTokensPerSecond());
    if (args->has("--ids-out")) {
        std::vector<int32_t> ids;
        for (const auto& t : result->tokens) ids.push_back(t.id);
        auto w = writeIdsFile(args->get("--ids-out"), ids);
        if (!w) return fail(w.error());
    }
    return 0;
}

}  // namespace glassbox::cli
