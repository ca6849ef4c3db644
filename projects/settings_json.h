// SamplerSettings to and from the JSON stored in runs.settings_json: every
// field under its C++ name. Floats are written as the shortest text that
// reads back to the same float; the seed is a decimal string, because a
// uint64 does not fit a JSON number exactly.
#pragma once

#include <string>
#include <string_view>

#include "engine/json.h"
#include "engine/result.h"
#include "engine/sampler_settings.h"

namespace glassbox::projects {

engine::JsonValue samplerSettingsToJsonValue(const engine::SamplerSettings& settings);
std::string samplerSettingsToJson(const engine::SamplerSettings& settings);

// Fields that are missing keep their defaults (files written before a field
// existed); unknown fields are ignored. Values are not range-checked (see
// SamplerSettings::validate). Errors: the parser's, or Malformed naming the
// field ("$.topK") when a value has the wrong type or does not fit.
engine::Result<engine::SamplerSettings> samplerSettingsFromJson(std::string_view json);

}  // namespace glassbox::projects
