// Hand-made safetensors files for parser tests and fuzz seeds: one valid
// base file and a set of named corruptions of it, each with the error code
// and a substring of the error field the parser must report.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"

namespace glassbox::test {

struct SafetensorsCorruption {
    std::string name;
    std::vector<uint8_t> bytes;
    engine::ErrorCode expectedCode;
    std::string expectedField;  // substring of Error::field
};

// A safetensors file: the 8-byte length (declaredLength, or the header's
// size), the header text padded with spaces to a multiple of 8, the data.
std::vector<uint8_t> makeSafetensorsBytes(std::string_view header, std::span<const uint8_t> data,
                                          std::optional<uint64_t> declaredLength = std::nullopt);

// The header and data of the valid base file: "a.weight" F32 [16,16],
// "b.weight" F16 [4], "c.bias" BF16 [2,2], metadata {"format": "pt"}.
std::string safetensorsBaseHeader();
std::vector<uint8_t> safetensorsBaseData();
std::vector<uint8_t> validSafetensorsBase();

std::vector<SafetensorsCorruption> safetensorsCorruptions();

}  // namespace glassbox::test
