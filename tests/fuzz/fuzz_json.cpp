// Fuzz target for the JSON parser and its JSON-fed readers. Properties: no
// crash; errors point inside the input; a parsed document dumps to text that
// parses back to an equal value and dumps to the same text again, compact,
// pretty and ASCII-escaped. The same bytes also go through the config.json
// and sharded-index readers.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/hf_config.h"
#include "engine/json.h"
#include "engine/safetensors_file.h"

using namespace glassbox::engine;

namespace {

void check(bool condition) {
    if (!condition) std::abort();
}

void roundTrip(const JsonValue& value, const JsonDumpOptions& options) {
    JsonLimits unlimited;
    unlimited.maxBytes = ~uint64_t(0);
    const std::string text = dumpJson(value, options);
    auto again = parseJson(text, unlimited);
    check(again.ok());
    check(again.value() == value);
    check(dumpJson(again.value(), options) == text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    JsonLimits limits;
    limits.maxDepth = 64;
    auto parsed = parseJson(text, limits);
    if (!parsed.ok()) {
        check(parsed.error().offset <= size);
        check(!parsed.error().field.empty());
    } else {
        roundTrip(parsed.value(), {});
        roundTrip(parsed.value(), {2, false});
        roundTrip(parsed.value(), {0, true});
    }
    auto config = parseHfConfig(text);
    if (config.ok()) {
        check(config->hiddenSize > 0 && config->numAttentionHeads > 0 &&
              config->numKeyValueHeads > 0);
        check(config->numAttentionHeads % config->numKeyValueHeads == 0);
        check(config->effectiveHeadDim() > 0);
    }
    auto index = parseSafetensorsIndex(text);
    if (index.ok())
        for (const auto& shard : index->shards) check(isSafeShardName(shard));
    return 0;
}
