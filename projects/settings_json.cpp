// Sampler settings as JSON, written and read field by field.
#include "projects/settings_json.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace glassbox::projects {

using engine::ErrorCode;
using engine::JsonValue;
using engine::makeError;
using engine::Result;
using engine::SamplerSettings;
using engine::Status;

namespace {

engine::Error wrongType(std::string_view key, const char* expected) {
    return makeError(ErrorCode::Malformed, std::string("sampler setting ") + std::string(key) + " must be " + expected,
                     "$." + std::string(key));
}

Status readFloat(const JsonValue& root, std::string_view key, float& out) {
    const JsonValue* v = root.find(key);
    if (!v) return {};
    if (v->isNull()) {  // how a non-finite value was written
        out = std::numeric_limits<float>::quiet_NaN();
        return {};
    }
    const auto d = v->asDouble();
    if (!d) return wrongType(key, "a number");
    out = float(*d);
    return {};
}

Status readInt(const JsonValue& root, std::string_view key, int32_t& out) {
    const JsonValue* v = root.find(key);
    if (!v) return {};
    const auto i = v->asInt();
    if (!i || *i < INT32_MIN || *i > INT32_MAX) return wrongType(key, "a 32-bit integer");
    out = int32_t(*i);
    return {};
}

Status readBool(const JsonValue& root, std::string_view key, bool& out) {
    const JsonValue* v = root.find(key);
    if (!v) return {};
    const auto b = v->asBool();
    if (!b) return wrongType(key, "true or false");
    out = *b;
    return {};
}

Status readSeed(const JsonValue& root, uint64_t& out) {
    const JsonValue* v = root.find("seed");
    if (!v) return {};
    const auto s = v->asString();
    if (!s) return wrongType("seed", "a decimal string");
    uint64_t seed = 0;
    const auto r = std::from_chars(s->data(), s->data() + s->size(), seed);
    if (r.ec != std::errc() || r.ptr != s->data() + s->size()) return wrongType("seed", "a decimal string");
    out = seed;
    return {};
}

Status readStops(const JsonValue& root, std::vector<std::string>& out) {
    const JsonValue* v = root.find("stopStrings");
    if (!v) return {};
    if (!v->isArray()) return wrongType("stopStrings", "an array of strings");
    std::vector<std::string> stops;
    for (const JsonValue& item : v->items()) {
        const auto s = item.asString();
        if (!s) return wrongType("stopStrings", "an array of strings");
        stops.emplace_back(*s);
    }
    out = std::move(stops);
    return {};
}

}  // namespace

JsonValue samplerSettingsToJsonValue(const SamplerSettings& s) {
    JsonValue stops = JsonValue::makeArray();
    for (const std::string& stop : s.stopStrings) stops.push(stop);
    JsonValue o = JsonValue::makeObject();
    o.set("temperature", double(s.temperature));
    o.set("topK", s.topK);
    o.set("topP", double(s.topP));
    o.set("minP", double(s.minP));
    o.set("repeatPenalty", double(s.repeatPenalty));
    o.set("presencePenalty", double(s.presencePenalty));
    o.set("frequencyPenalty", double(s.frequencyPenalty));
    o.set("penaltyLastN", s.penaltyLastN);
    o.set("seed", std::to_string(s.seed));
    o.set("maxTokens", s.maxTokens);
    o.set("stopStrings", std::move(stops));
    o.set("topLogprobs", s.topLogprobs);
    o.set("captureStages", s.captureStages);
    o.set("stageCandidates", s.stageCandidates);
    return o;
}

std::string samplerSettingsToJson(const SamplerSettings& settings) {
    return engine::dumpJson(samplerSettingsToJsonValue(settings));
}

Result<SamplerSettings> samplerSettingsFromJson(std::string_view json) {
    GB_ASSIGN_OR_RETURN(const JsonValue root, engine::parseJson(json));
    if (!root.isObject())
        return makeError(ErrorCode::Malformed, "sampler settings must be a JSON object", "$");
    SamplerSettings s;
    GB_TRY(readFloat(root, "temperature", s.temperature));
    GB_TRY(readInt(root, "topK", s.topK));
    GB_TRY(readFloat(root, "topP", s.topP));
    GB_TRY(readFloat(root, "minP", s.minP));
    GB_TRY(readFloat(root, "repeatPenalty", s.repeatPenalty));
    GB_TRY(readFloat(root, "presencePenalty", s.presencePenalty));
    GB_TRY(readFloat(root, "frequencyPenalty", s.frequencyPenalty));
    GB_TRY(readInt(root, "penaltyLastN", s.penaltyLastN));
    GB_TRY(readSeed(root, s.seed));
    GB_TRY(readInt(root, "maxTokens", s.maxTokens));
    GB_TRY(readStops(root, s.stopStrings));
    GB_TRY(readInt(root, "topLogprobs", s.topLogprobs));
    GB_TRY(readBool(root, "captureStages", s.captureStages));
    GB_TRY(readInt(root, "stageCandidates", s.stageCandidates));
    return s;
}

}  // namespace glassbox::projects
