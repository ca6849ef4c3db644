// Building the JSON export of a run with engine/json.h's serializer.
#include "projects/run_export.h"

#include "engine/json.h"
#include "projects/settings_json.h"

namespace glassbox::projects {

using engine::JsonValue;

namespace {

JsonValue optionalId(const std::optional<int64_t>& id) { return id ? JsonValue(*id) : JsonValue(); }

JsonValue modelJson(const ModelRecord* m) {
    if (!m) return JsonValue();
    JsonValue o = JsonValue::makeObject();
    o.set("path", m->path);
    o.set("fileBytes", m->fileBytes);
    o.set("sha256", m->sha256);
    o.set("architecture", m->architecture);
    o.set("displayName", m->displayName);
    return o;
}

JsonValue promptJson(const PromptRecord* p) {
    if (!p) return JsonValue();
    JsonValue o = JsonValue::makeObject();
    o.set("title", p->title);
    o.set("mode", promptModeName(p->mode));
    o.set("systemPrompt", p->systemPrompt);
    o.set("content", p->content);
    return o;
}

JsonValue stagesJson(const engine::SamplerStages& stages) {
    JsonValue list = JsonValue::makeArray();
    for (const engine::SamplerStage& s : stages.stages) {
        JsonValue top = JsonValue::makeArray();
        for (const engine::StageCandidate& c : s.top) {
            JsonValue cand = JsonValue::makeObject();
            cand.set("id", c.id);
            cand.set("logit", double(c.logit));
            cand.set("prob", double(c.prob));
            top.push(std::move(cand));
        }
        JsonValue o = JsonValue::makeObject();
        o.set("stage", engine::samplerStageName(s.kind));
        o.set("active", s.active);
        o.set("survivors", s.survivors);
        o.set("top", std::move(top));
        list.push(std::move(o));
    }
    return list;
}

JsonValue tokenJson(const engine::GeneratedToken& t) {
    JsonValue alternatives = JsonValue::makeArray();
    for (const engine::TokenLogprob& a : t.sample.topAlternatives) {
        JsonValue alt = JsonValue::makeObject();
        alt.set("id", a.id);
        alt.set("logprob", double(a.logprob));
        alternatives.push(std::move(alt));
    }
    JsonValue o = JsonValue::makeObject();
    o.set("index", t.index);
    o.set("id", t.id);
    o.set("text", t.text);
    o.set("logprob", double(t.sample.logprob));
    o.set("probability", double(t.sample.probability));
    o.set("greedy", t.sample.greedy);
    o.set("alternatives", std::move(alternatives));
    o.set("stages", t.sample.hasStages ? stagesJson(t.sample.stages) : JsonValue());
    return o;
}

}  // namespace

std::string runToJson(const RunRecord& run, const ModelRecord* model, const PromptRecord* prompt, int indent) {
    JsonValue promptTokens = JsonValue::makeArray();
    for (int32_t id : run.promptTokens) promptTokens.push(id);
    JsonValue tokens = JsonValue::makeArray();
    for (const engine::GeneratedToken& t : run.tokens) tokens.push(tokenJson(t));

    JsonValue timings = JsonValue::makeObject();
    timings.set("prefillSeconds", run.prefillSeconds);
    timings.set("decodeSeconds", run.decodeSeconds);
    timings.set("prefillTokensPerSecond", run.prefillTokensPerSecond);
    timings.set("decodeTokensPerSecond", run.decodeTokensPerSecond);
    timings.set("reusedPromptTokens", run.reusedPromptTokens);

    JsonValue o = JsonValue::makeObject();
    o.set("glassboxRun", kRunExportFormat);
    o.set("id", run.id);
    o.set("createdAt", run.createdAt);
    o.set("label", run.label);
    o.set("notes", run.notes);
    o.set("engineVersion", run.engineVersion);
    o.set("hardware", run.hardware);
    o.set("model", modelJson(model));
    o.set("prompt", promptJson(prompt));
    o.set("parentRunId", optionalId(run.parentRunId));
    o.set("branchTokenIndex", run.branchTokenIndex);
    o.set("compareGroup", optionalId(run.compareGroup));
    o.set("settings", samplerSettingsToJsonValue(run.settings));
    o.set("seed", std::to_string(run.seed));
    o.set("promptText", run.promptText);
    o.set("promptTokens", std::move(promptTokens));
    o.set("output", run.outputText);
    o.set("stopReason", engine::stopReasonName(run.stopReason));
    o.set("timings", std::move(timings));
    o.set("tokens", std::move(tokens));
    return engine::dumpJson(o, engine::JsonDumpOptions{indent, false});
}

}  // namespace glassbox::projects
